/*
 * policy_file.h - what the analysers ask of the user's policy file
 * (docs/policy.md); the public half is in model_scanner.h.
 */
#ifndef MS_POLICY_FILE_H
#define MS_POLICY_FILE_H

#include "model_scanner.h"
#include "pickle_policy.h"

/* Applies the policy's pickle deny and allow lists to the built-in verdict
 * for module.name: a deny entry makes it dangerous; an allow entry makes an
 * unknown global safe (never a dangerous one). Returns true when an allow
 * entry did. `policy` may be NULL. */
bool policy_adjust_global(const ms_policy *policy, const char *module, const char *name,
                          pickle_class *cls);

#endif
