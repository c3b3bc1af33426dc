/*
 * proc.h - what the kernel says about this process and the host's memory,
 * read from /proc. For /status and /metrics, and the state and start time
 * of another process (the daemons Atlas stops and adopts).
 */
#ifndef ATLAS_PROC_H
#define ATLAS_PROC_H

/* Resident memory of this process in bytes (/proc/self/statm); 0 when unreadable. */
long long proc_rss_bytes(void);
/* MemAvailable of /proc/meminfo in bytes; 0 when unreadable. */
long long proc_mem_available(void);

/*
 * The state letter (field 3: R, S, Z, X...) and the start time (field 22,
 * clock ticks since boot) of a /proc/PID/stat line; either may be NULL.
 * The command name, field 2, may hold spaces and parentheses: fields are
 * counted from its last ')'. 0, or -1 when the text is not such a line.
 */
int proc_stat_parse(const char *text, char *state, long long *start_time);
/* The same, of process pid; -1 when it is gone (or its stat unreadable). */
int proc_stat(long pid, char *state, long long *start_time);

/*
 * Unmaps the pages of the loaded objects' (the program's, the libraries')
 * read-only segments that lie in clean mappings (code, read-only data; no
 * private page: never relocated data): they stay in the page cache and are
 * faulted back in when used again. Other file mappings are left alone.
 * Returns the KiB RssFile fell by, -1 when /proc/self/smaps is unreadable.
 */
long long proc_drop_file_pages(void);
/*
 * How many objects the dynamic loader has loaded so far (the program and
 * its libraries at start, one more for each dlopen that mapped one): a
 * change says a library came in since the last look.
 */
unsigned long long proc_loads(void);
/*
 * Notes that one-off work ran (a password hash: 8 MiB, and 1.6 MB of
 * libcrypto's code and tables touched; a session token's first check, whose
 * HMAC maps 1.3 MB of it): its pages are worth unmapping once it is over
 * (atlas serve's ticker does, at its next tick). Any thread.
 */
void proc_note_one_off(void);
/* How many times proc_note_one_off() was called so far. */
unsigned long proc_one_offs(void);

#endif
