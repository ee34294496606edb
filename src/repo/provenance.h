/*
 * provenance.h - what can be said about where a model's files came from:
 * git metadata (commit, remote), a Hugging Face cache revision, a hash
 * manifest, and the model card's license (YAML front matter of README.md).
 */
#ifndef MS_PROVENANCE_H
#define MS_PROVENANCE_H

#include "model_scanner.h"

typedef struct provenance_facts {
    const char *root;           /* the model folder on disk (NULL for a single file) */
    const char *cache_repo;     /* "org/name" for a Hugging Face cache entry */
    const char *cache_revision; /* the snapshot scanned */
    const char *card_dir;       /* where README.md is read when not root: a cache
                                 * snapshot, whose README.md links into blobs/ */
    const char *card_contain;   /* the folder the card's link must stay in */
    bool manifest_checked;
    size_t manifest_entries;
} provenance_facts;

/* Adds the "Unverified Source" warning describing what was and was not
 * verifiable, and the model card license facts. */
void provenance_report(ms_report *report, const provenance_facts *facts);

#endif
