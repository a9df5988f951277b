/* version.h — the version of sluice, as `sluice --version` prints it and as it names
 * itself to others (the Parquet files' created_by, the load generator's User-Agent). */
#ifndef SLUICE_VERSION_H
#define SLUICE_VERSION_H

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.1.0"
#endif

#endif
