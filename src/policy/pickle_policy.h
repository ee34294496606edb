/*
 * pickle_policy.h - which pickle globals are safe, dangerous or unknown.
 *
 * One table-driven layer: the analyser asks about (module, name) and gets a
 * verdict and the reason. Deny wins over allow; what is on neither list is
 * denied by default (reported as a Suspicious Import).
 */
#ifndef MS_PICKLE_POLICY_H
#define MS_PICKLE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

typedef enum pickle_verdict {
    PICKLE_SAFE = 0,
    PICKLE_UNKNOWN,
    PICKLE_DANGEROUS,
} pickle_verdict;

typedef enum pickle_role {
    PICKLE_ROLE_NONE = 0,
    PICKLE_ROLE_LOADER,      /* arg 0 is a serialized object that gets deserialized */
    PICKLE_ROLE_GETATTR,     /* builtins.getattr */
    PICKLE_ROLE_B64DECODE,   /* pure: base64 text -> bytes */
    PICKLE_ROLE_HEXDECODE,   /* pure: hex text -> bytes */
    PICKLE_ROLE_ZLIB,        /* pure: zlib/gzip bytes -> bytes */
    PICKLE_ROLE_ENCODE,      /* pure: _codecs.encode(str, encoding) */
    PICKLE_ROLE_BYTESIO,     /* io.BytesIO(bytes): a file over constant bytes */
} pickle_role;

typedef struct pickle_class {
    pickle_verdict verdict;
    pickle_role role;
    const char *reason; /* static text: why dangerous / why safe */
    bool methods_safe;  /* getattr(<this class>, 'public_name') stays safe */
} pickle_class;

/* Classifies module.name as Python would import it (protocol-2 fix_imports
 * names such as __builtin__ are mapped first). */
pickle_class pickle_policy_classify(const char *module, const char *name);

/* The name Python 3 actually loads for a protocol 0-2 Python 2 name
 * (commands.Popen -> subprocess.Popen). Returns false when it is unchanged. */
bool pickle_policy_py3_name(const char *module, const char *name, char *out, size_t outsz);

#endif
