/* Small I/O helpers. All fds opened here are O_CLOEXEC. */
#pragma once
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

/* Read a whole file (up to max bytes; 0 = 64 MiB) into a NUL-terminated
 * malloc'd buffer. Returns 0 or -errno (-EFBIG past max). */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_len);
/* The same from an open fd, read to its end. */
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);
/* The end of a log's text (len bytes): its last max bytes, trailing
 * newlines and spaces left off; malloc'd, NULL when nothing is left (or
 * out of memory). What a message shows of what a program said. */
char *text_tail(const char *text, size_t len, size_t max);
/* Write s to path (O_WRONLY|O_TRUNC, created with mode). Returns 0 or -errno. */
int write_file(const char *path, const char *s, mode_t mode);
/* Write to an existing file at dirfd/path without O_CREAT or O_TRUNC (sysfs,
 * cgroupfs). Returns 0 or -errno. */
int write_file_at(int dirfd, const char *path, const char *s);
/* Write s to a new temporary file next to dirfd/path (O_CREAT|O_EXCL|
 * O_NOFOLLOW: never through what someone left there), then rename it over
 * path. fsync-free. Returns 0 or -errno. */
int write_file_atomic_at(int dirfd, const char *path, const char *s, mode_t mode);
/* The same, with the file fsync'd before the rename and dirfd after it:
 * once it returns 0 the new content survives a crash, and at no point is
 * path missing or half-written (configuration that must outlive a reboot). */
int write_file_durable_at(int dirfd, const char *path, const char *s, mode_t mode);
int write_all(int fd, const void *buf, size_t len);
/* "dir/name", malloc'd; NULL when out of memory. One '/' between them
 * whatever dir ends with; dir NULL or "" gives name alone. */
char *path_join(const char *dir, const char *name);
/* name as seen from file's directory: "dir/of/file" + "name" gives
 * "dir/of/name"; name alone when it is absolute or file has no '/'.
 * malloc'd; NULL when out of memory. */
char *path_beside(const char *file, const char *name);
/* The longest path a unix socket address holds. */
#define UNIX_PATH_MAX_BYTES (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)
/* *ret = the AF_UNIX address of path. 0, or -ENAMETOOLONG when path is
 * longer than UNIX_PATH_MAX_BYTES. */
int unix_sockaddr(const char *path, struct sockaddr_un *ret);
/* A unix stream socket (SOCK_CLOEXEC | flags: SOCK_NONBLOCK) connected to
 * path: the fd, or -errno: ENAMETOOLONG (see unix_sockaddr), socket's or
 * connect's (ENOENT, ECONNREFUSED: nobody listens; EAGAIN: the listen
 * backlog is full). EINTR is retried. */
int unix_connect(const char *path, int flags);
/* A directory stream over a duplicate of dirfd (dirfd stays the caller's).
 * NULL with errno set on failure. */
DIR *opendir_at_fd(int dirfd);
/* mkdir -p; existing directories are fine. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);
/* Remove the directory dfd/name: its entries (files: one level, nothing
 * deeper), then itself; opened O_NOFOLLOW, never through a planted link.
 * 0 (also when it is not there) or -errno. */
int remove_dir_flat_at(int dfd, const char *name);
/* Read one unsigned number from a file ("123\n"). */
int read_u64_file(const char *path, uint64_t *ret);
int read_u64_file_at(int dirfd, const char *path, uint64_t *ret);
/* Milliseconds on CLOCK_MONOTONIC. */
int64_t now_ms(void);
/* Nanoseconds on CLOCK_MONOTONIC. */
int64_t now_ns(void);
