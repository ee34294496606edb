/*
 * rules.c - the table of every rule the scanner can report.
 *
 * Analysers name a rule id; this table supplies the finding type, default
 * severity and recommendation, so wording and severities live in one place.
 * docs/rules.md documents the same table (a test keeps the two in step).
 */
#include <string.h>

#include "model_scanner.h"

#define REC_PICKLE                                                                               \
    "Avoid loading pickle files from untrusted sources. Load weights with a format that "       \
    "cannot carry code (safetensors), or use torch.load(..., weights_only=True) and "           \
    "convert the checkpoint to safetensors."
#define REC_DO_NOT_LOAD                                                                          \
    "Do not load this file. It runs code when deserialized; treat the repository as "           \
    "compromised and obtain the weights from a trusted source in safetensors format."

static const ms_rule rules[] = {
    {"PICKLE-INSECURE-FORMAT", "Insecure Pickle Loading", MS_SEV_CRITICAL,
     "Any pickle stream: a raw pickle file, or a pickle inside a PyTorch, joblib or NumPy file. "
     "Loading a pickle can execute arbitrary code.",
     REC_PICKLE},
    {"PICKLE-DANGEROUS-GLOBAL", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A pickle imports a callable or module on the deny list (process execution, eval/exec, "
     "importers, file and network access, nested loaders, attribute-walking helpers), or reaches "
     "one through a dotted or dunder attribute path.",
     REC_DO_NOT_LOAD},
    {"PICKLE-DYNAMIC-GLOBAL", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "STACK_GLOBAL whose module or name is not a constant string (computed by an earlier call or "
     "otherwise unresolvable): no legitimate pickler emits this; it hides the import.",
     REC_DO_NOT_LOAD},
    {"PICKLE-UNKNOWN-GLOBAL", "Suspicious Import", MS_SEV_HIGH,
     "A pickle imports a global that is neither on the safe list nor on the deny list "
     "(default deny). Loading it imports and may call code the scanner cannot vouch for.",
     "Check that the named class or function is expected for this model and comes from a "
     "library you trust; prefer a safetensors copy of the weights."},
    {"PICKLE-EXTENSION-CODE", "Suspicious Import", MS_SEV_HIGH,
     "EXT1/EXT2/EXT4 opcode: the global comes from the copyreg extension registry of the "
     "loading process and cannot be resolved statically.",
     "Do not load this file unless you control the loading process's copyreg registry."},
    {"PICKLE-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A pickle stream breaks (invalid opcode, truncation, impossible length, stack underflow, "
     "missing memo entry). Whatever ran before the break still runs at load time (nullifAI).",
     "Do not load the file; a broken pickle is a known way to hide a payload from scanners."},
    {"PICKLE-APPENDED-STREAM", "Malformed Model File", MS_SEV_HIGH,
     "A further pickle stream follows STOP where the format expects none. Loaders that read "
     "several pickles (legacy torch.load, joblib, custom loops) execute it.",
     "Do not load the file; re-export the weights from a trusted source."},
    {"PICKLE-TRAILING-DATA", "Malformed Model File", MS_SEV_HIGH,
     "Bytes after the final STOP that no format structure explains.",
     "Do not load the file; find out what the extra bytes are before trusting it."},
    {"SCAN-LIMIT", "Scan Limit Exceeded", MS_SEV_MEDIUM,
     "A size, count, depth or time limit stopped the analysis of a file before its end; what "
     "lies beyond the limit was not analysed.",
     "Treat the file as unscanned. Raise the limit only for files from a source you trust."},
    {"FILE-UNREADABLE", "Unscanned Content", MS_SEV_MEDIUM,
     "A file in the model folder could not be opened or read, so it was not analysed.",
     "Fix the file's permissions and scan again; never load a file the scanner could not read."},
    {"FORMAT-NOT-ANALYSED", "Unscanned Content", MS_SEV_MEDIUM,
     "A file in a format that can carry code or hide pickles (ZIP and PyTorch archives, 7z, tar, "
     "gzip, bzip2, xz, zstd, lz4, NumPy, HDF5, GGUF) that this version of the scanner detects "
     "but does not yet analyse.",
     "Treat the file as unscanned: do not load it until a scanner that analyses its format "
     "reports it clean."},
    {"FORMAT-UNRECOGNISED", "Unscanned Content", MS_SEV_LOW,
     "A binary file in no format the scanner recognises from its content; it was not analysed.",
     "Find out what the file is and which code reads it before loading the model."},
    {"JOBLIB-ZFILE-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A file with joblib's old zfile header ('ZF', hex length) whose zlib stream is broken, or "
     "shorter or longer than declared. What could be inflated is still analysed.",
     "Do not load the file; re-export it from a trusted source."},
    {"PATH-SYMLINK-ESCAPE", "Path Traversal", MS_SEV_HIGH,
     "A symbolic link inside the model folder points outside it (or cannot be resolved); it was "
     "not followed.",
     "Remove the link; a model repository has no reason to reference files outside itself."},
    {"PROVENANCE-UNVERIFIED", "Unverified Source", MS_SEV_INFORMATIONAL,
     "The origin of the files cannot be verified: no git commit and remote, no Hugging Face "
     "cache revision, no hash manifest.",
     "Pin the model to a specific revision (commit hash) and verify file hashes against the "
     "publisher's before use."},
};

const ms_rule *ms_rules(size_t *count)
{
    *count = sizeof(rules) / sizeof(rules[0]);
    return rules;
}

const ms_rule *ms_rule_find(const char *id)
{
    for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
        if (strcmp(rules[i].id, id) == 0)
            return &rules[i];
    return NULL;
}
