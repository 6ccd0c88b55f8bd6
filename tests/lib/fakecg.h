/* A stand-in for cgroupfs in tests: a plain directory where cgroups are
 * directories and interface files are regular files. It plays the kernel's
 * part through cgroups/'s ops table: a cgroup made by the library gets the
 * files the kernel would create (cgroup.* and the files of the controllers
 * its parent enabled), empty except cgroup.controllers and cgroup.events
 * ("populated 0\nfrozen 0\n"); removing one removes its files. cg_write
 * appends "value\n", so a test reads the exact sequence of writes. */
#pragma once
#include "cgroups/cgroups-internal.h"

extern const struct cg_fs_ops fakecg_ops;

/* cg_hier_open_ops(path, &fakecg_ops, ...) */
int fakecg_open(const char *path, struct cg_hier **ret, struct qc_err *err);
/* The controllers a log of "+a -b" writes to dirfd's cgroup.subtree_control
 * leaves enabled. */
unsigned fakecg_enabled(int dirfd);
