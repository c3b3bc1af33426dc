/*
 * version.h - the version of Atlas (printed by `atlas version`, recorded in
 * backups).
 */
#ifndef ATLAS_VERSION_H
#define ATLAS_VERSION_H

#define ATLAS_VERSION "0.1.0"

#endif
