/*
 * proc.h - what the kernel says about this process and the host's memory,
 * read from /proc. For /status and /metrics.
 */
#ifndef ATLAS_PROC_H
#define ATLAS_PROC_H

/* Resident memory of this process in bytes (/proc/self/statm); 0 when unreadable. */
long long proc_rss_bytes(void);
/* MemAvailable of /proc/meminfo in bytes; 0 when unreadable. */
long long proc_mem_available(void);

#endif
