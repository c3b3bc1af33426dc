/*
 * cli.h - the subcommands of `atlas`, one file each (cmd_NAME.c), each
 * returning the process exit status, as in git's builtin.h.
 */
#ifndef ATLAS_CLI_H
#define ATLAS_CLI_H

#include "state/diag.h"
#include "state/model.h"
#include "state/store.h"

#include "lib/version.h"

/* The data directory: --data, else $ATLAS_DATA, else ./data. */
extern const char *cli_datadir;

/* Opens the store of cli_datadir; prints the error and returns NULL on failure. */
struct store *cli_store(void);
/* Opens the store only when a database exists already (for read-only checks). */
struct store *cli_store_if_exists(void);
/*
 * For commands that only read (export, plan, history, client files): like
 * cli_store(), but a data directory that is not writable is opened
 * read-only instead of refused, and one without a database is an error
 * that says so (a command run from the wrong directory, or without
 * --data, must not answer from a new empty state).
 */
struct store *cli_store_ro(void);
/*
 * A command's edit is stored only on top of the generation it was made
 * from (cli_commit_edit): when another process stored one meanwhile, the
 * commit sets cli_conflicted and cli_run runs the command again from the
 * new state, up to CLI_CONFLICT_TRIES times; the last try says why.
 */
#define CLI_CONFLICT_TRIES 5
extern int cli_conflicted, cli_conflicts_left;

/* cli_store_ro() that makes the database when there is none (`plan -f FILE`). */
struct store *cli_store_ro_or_new(void);

/* Prints d to stderr as FILE:LINE:COL: message lines (file may be NULL). */
void cli_print_diags(struct diags *d, const char *file);

/*
 * Flushes stdout; 0, or -1 after printing "atlas: cannot write ...: REASON"
 * to stderr (a full disk or a closed pipe must not end in exit 0 with a
 * truncated `atlas export > state.yaml`).
 */
int cli_flush_stdout(void);

/*
 * Runs a subcommand and then checks that everything it wrote to stdout
 * reached it: every command, not only those that remember to check. Returns
 * the command's exit status, or 1 when stdout failed.
 */
int cli_run(int (*fn)(int argc, char **argv), int argc, char **argv);

/* 1 when argv has -h or --help; prints usage to stdout then. */
int cli_wants_help(int argc, char **argv, const char *usage);

/*
 * Reads a YAML file, parses, completes and validates it against the stored
 * state (st_old, may be NULL). Prints every problem; returns the new state or
 * NULL.
 */
struct atlas_state *cli_load_file(const char *file, const struct atlas_state *old);

/*
 * Locks DATA/serve.lock (one `atlas serve` per data directory); restore 1:
 * for `atlas restore`, which must not run under a server. The fd to keep
 * open, -2 (restore: no server ever ran there), -1 with the message told.
 */
int cli_serve_lock(const char *datadir, int restore);

int cmd_validate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_wg(int argc, char **argv);
int cmd_ovpn(int argc, char **argv);
int cmd_adopt(int argc, char **argv);
int cmd_usage(int argc, char **argv);
/* cmd_adopt_ovpn.c: `atlas adopt openvpn` (argv[0] is "openvpn"). */
int adopt_wireguard_cmd(int argc, char **argv);
int adopt_openvpn_cmd(int argc, char **argv);
/* cmd_adopt_sb.c: `atlas adopt singbox` (argv[0] is "singbox"). */
int adopt_singbox_cmd(int argc, char **argv);
/*
 * cmd_adopt.c: opens the store and loads the desired state; a dry run opens
 * only a store that exists (else *s is NULL and *old the empty state), so it
 * creates no atlas.db. -1 after printing the error.
 */
int adopt_load(int dry_run, struct store **s, struct atlas_state **old);
/*
 * cmd_adopt.c: stores next as generation "adopt" (dry_run: prints its YAML),
 * then prints the plan; without restart_engine it also applies a plan that
 * only takes over (records, NAT). Returns the exit status.
 */
int adopt_finish(struct store *s, struct atlas_state *next, const struct atlas_state *old,
		 const char *summary, int dry_run, const char *restart_engine);
/* `atlas singbox status` (cmd_singbox_status.c). */
int cmd_singbox_status(int argc, char **argv);
int cmd_singbox(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_token(int argc, char **argv);

#endif
