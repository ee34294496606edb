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
    {"SCAN-EXCLUDED", "Unscanned Content", MS_SEV_INFORMATIONAL,
     "Paths matched an exclude pattern (--exclude or the policy file) and were not scanned.",
     "Make sure nothing a loader reads is excluded: an excluded file is an unscanned file."},
    {"POLICY-SUPPRESSION-EXPIRED", "Policy", MS_SEV_INFORMATIONAL,
     "A suppression in the policy file has passed its expiry date, so the findings it matched "
     "are reported again.",
     "Review the findings; renew the suppression with a new date and reason, or fix them."},
    {"FILE-UNREADABLE", "Unscanned Content", MS_SEV_MEDIUM,
     "A file in the model folder could not be opened or read, so it was not analysed.",
     "Fix the file's permissions and scan again; never load a file the scanner could not read."},
    {"FORMAT-NOT-ANALYSED", "Unscanned Content", MS_SEV_MEDIUM,
     "A file in a format that can carry code, recognised from its content, for which no "
     "analyser is registered (the dispatcher fails closed).",
     "Treat the file as unscanned: do not load it until a scanner that analyses its format "
     "reports it clean."},
    {"FORMAT-UNRECOGNISED", "Unscanned Content", MS_SEV_LOW,
     "A binary file in no format the scanner recognises from its content; it was not analysed.",
     "Find out what the file is and which code reads it before loading the model."},
    {"JOBLIB-ZFILE-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A file with joblib's old zfile header ('ZF', hex length) whose zlib stream is broken, or "
     "shorter or longer than declared. What could be inflated is still analysed.",
     "Do not load the file; re-export it from a trusted source."},
    {"ARCHIVE-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A ZIP, 7z, tar or compressed stream (gzip, bzip2, xz, zstd, lz4, zlib) is broken or "
     "truncated, or cannot be opened. Everything readable before the break is analysed as well "
     "(for a ZIP, every local header found from offset 0).",
     "Do not load the file; a broken archive can hide members from scanners that loaders still "
     "read. Obtain an intact copy from a trusted source."},
    {"ARCHIVE-UNSAFE-PATH", "Path Traversal", MS_SEV_HIGH,
     "An archive member name (or link target) is absolute, starts with a drive letter or climbs "
     "out with '..' (in a ZIP also: contains a backslash or a NUL byte): extracting the archive "
     "writes outside its folder.",
     "Do not extract the archive; a model archive has no reason to write outside its folder."},
    {"ARCHIVE-ENCRYPTED", "Unscanned Content", MS_SEV_MEDIUM,
     "A member of a 7z archive (or the archive's header) is encrypted, so its content cannot be "
     "analysed.",
     "Treat the encrypted content as unscanned; obtain an unencrypted copy and scan it before "
     "loading anything from it."},
    {"ARCHIVE-TAMPERING", "Archive Tampering", MS_SEV_HIGH,
     "A ZIP whose readings disagree: local vs central name (CVE-2025-1944), size, method, CRC "
     "field or flag bits (CVE-2025-1945), encryption flags, data that fails its CRC "
     "(CVE-2025-10156), overlapping members, members or offsets outside the file, bytes "
     "prepended (polyglot) or appended, unexplained gaps, duplicate names, local headers no "
     "directory lists, moved or duplicated central directories. details.kind names it.",
     "Do not load the file: loaders and scanners read a tampered archive differently, which is "
     "how payloads slip past scanners. Obtain the model from a trusted source."},
    {"ARCHIVE-UNSUPPORTED-METHOD", "Unscanned Content", MS_SEV_MEDIUM,
     "A ZIP member compressed with a method the scanner does not decode (deflate64, PPMd, "
     "AES, unknown; stored, deflate, bzip2, lzma, zstd and xz are decoded): its content was "
     "not analysed.",
     "Treat the member as unscanned; recompress the archive with deflate or store and scan it "
     "again before loading it."},
    {"TORCHSCRIPT-CODE", "Embedded Code", MS_SEV_MEDIUM,
     "A TorchScript archive (torch.jit.save): it carries code/ files that torch.jit.load (and "
     "torch.load) compiles and runs. The finding names the code files and the calls they make.",
     "Load TorchScript only from sources you trust; read the code/ files, or use a weights-only "
     "format (safetensors) with model code you control."},
    {"TORCHSCRIPT-DANGEROUS-CALL", "Arbitrary Code Execution", MS_SEV_HIGH,
     "TorchScript code uses an operator from a custom namespace (torch.ops.<ns>, native code), "
     "a custom C++ class (__torch__.torch.classes), open(), os., subprocess, eval, exec or "
     "__import__; reported at file:line.",
     "Do not load the archive unless you know why its code needs this call and trust the native "
     "libraries it relies on."},
    {"NUMPY-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A NumPy .npy file whose header cannot be read as numpy.load reads it (bad magic or "
     "version, truncated header, not a strict Python literal dict with exactly 'descr', "
     "'fortran_order' and 'shape', invalid dtype or shape, duplicate keys), or whose data is "
     "shorter or longer than the shape and dtype declare.",
     "Do not load the file; re-export the array from a trusted source (numpy.save with "
     "allow_pickle=False, or safetensors)."},
    {"INTEGRITY-LFS-POINTER", "Missing Model Content", MS_SEV_MEDIUM,
     "A Git LFS pointer file (version/oid/size) stands where content should be: the clone was "
     "made without git-lfs or the object is missing.",
     "Fetch the real files (git lfs pull) and scan again; never load a model whose files were "
     "not all scanned."},
    {"INTEGRITY-FILE-MODE", "Insecure File Permissions", MS_SEV_MEDIUM,
     "A model data file (pickle, archive, weights, unknown binary) is executable, or any file "
     "has the set-user-id or set-group-id bit.",
     "Remove the bits (chmod a-x, u-s, g-s) and find out who set them."},
    {"INTEGRITY-MISMATCH", "Integrity Mismatch", MS_SEV_HIGH,
     "A file's content does not match its published hash: a Hugging Face cache blob whose "
     "sha256 (LFS) or git blob sha1 differs from its name, or a file whose sha256 differs from "
     "the --manifest.",
     "Delete the cached or downloaded copy and download it again from the publisher; treat the "
     "changed file as tampered."},
    {"INTEGRITY-MANIFEST-MISSING", "Missing Model Content", MS_SEV_MEDIUM,
     "The --manifest lists a file the model folder does not have.",
     "Download the missing file from the publisher and scan again."},
    {"INTEGRITY-MANIFEST-UNLISTED", "Integrity Mismatch", MS_SEV_LOW,
     "A file in the model folder is not listed in the --manifest, so no published hash vouches "
     "for it.",
     "Check where the extra file comes from; remove it if it is not part of the model."},
    {"PROVENANCE-NO-LICENSE", "Unverified Source", MS_SEV_INFORMATIONAL,
     "The model card (README.md) is missing, has no YAML front matter, or its front matter "
     "declares no license.",
     "Check the model's license and origin with its publisher before using it."},
    {"KERAS-LAMBDA", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A Keras config (HDF5 model_config/training_config, .keras config.json) holds a Lambda "
     "layer or a '__lambda__' function: marshalled Python bytecode that Keras rebuilds and runs "
     "(the names the bytecode references are listed).",
     "Do not load this model with safe_mode=False or with Keras 2 / tf.keras (which load Lambda "
     "bytecode unconditionally). Rebuild the model from source code you trust and load only its "
     "weights."},
    {"KERAS-DANGEROUS-OBJECT", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A Keras config names an object or function from a module that runs commands, evaluates "
     "code, opens files or the network (os, posix, subprocess, builtins eval/exec ...), which "
     "Keras before 3.9 imports and calls (CVE-2025-1550); or a TFOpLambda calling "
     "tf.py_function / tf.io file functions.",
     REC_DO_NOT_LOAD},
    {"KERAS-CUSTOM-OBJECT", "Suspicious Import", MS_SEV_HIGH,
     "A Keras config names a module, or a registered custom object ('pkg>Name'), outside Keras "
     "and its official libraries: loading imports that module (CVE-2025-1550) or needs custom "
     "code that this file does not contain.",
     "Load the model only if the named package is one you have installed from a source you "
     "trust and expect this model to need; upgrade Keras to 3.9 or later and keep safe_mode on."},
    {"KERAS-UNSAFE-DESERIALIZATION", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A Keras config names keras.config.enable_unsafe_deserialization: called while loading it "
     "switches safe mode off for the rest of the config (CVE-2025-9906).",
     REC_DO_NOT_LOAD},
    {"KERAS-GET-FILE", "Remote Content", MS_SEV_HIGH,
     "A Keras config references keras.utils.get_file: called while loading it downloads a file "
     "from a URL of the config's choosing to a path of its choosing (CVE-2025-8747).",
     "Do not load the model; upgrade Keras to a version that blocks get_file in safe mode and "
     "obtain the model from a trusted source."},
    {"KERAS-TORCH-MODULE-WRAPPER", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A Keras config holds a TorchModuleWrapper layer: its module is a torch.save pickle that "
     "Keras loads with torch.load(weights_only=False) (CVE-2025-49655). The pickle is analysed "
     "as a member '<config>!TorchModuleWrapper'.",
     REC_DO_NOT_LOAD},
    {"KERAS-TFSM-LAYER", "Embedded Code", MS_SEV_HIGH,
     "A Keras config holds a TFSMLayer, which loads the TensorFlow SavedModel at the path in its "
     "config when the model is deserialized (CVE-2026-1462); that graph is not in this file.",
     "Load the model only if the referenced SavedModel is one you trust and have scanned; "
     "remove the layer otherwise."},
    {"KERAS-CONFIG-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A Keras model configuration (HDF5 model_config/training_config, .keras config.json) is "
     "not valid JSON, so what Keras would rebuild from it could not be checked.",
     "Do not load the model; a configuration the scanner cannot read cannot be vouched for."},
    {"HDF5-PARSER-FAILURE", "Malformed Model File", MS_SEV_HIGH,
     "libhdf5, run in an isolated child process, could not read an HDF5 file's root attributes: "
     "it crashed (the signal is named), timed out, ran out of its limits, or found the file or "
     "its model_config/training_config attribute unreadable.",
     "Do not load the file: HDF5 files crafted to crash readers are an attack on the loader, and "
     "the model's configuration could not be checked."},
    {"SECRET-CREDENTIAL", "Sensitive Data in Metadata", MS_SEV_HIGH,
     "A live-looking credential or private key in a text file of the repository or in text "
     "carried by a model file: Hugging Face, OpenAI, Anthropic, AWS, Google, Azure, GitHub, "
     "GitLab, Slack, Stripe and Weights & Biases tokens, private keys, passwords in URLs.",
     "Revoke the credential now (it is public if the repository is), remove it from the files "
     "and from the repository history, and publish a cleaned copy."},
    {"SECRET-PERSONAL-DATA", "Sensitive Data in Metadata", MS_SEV_LOW,
     "Personal or internal data: e-mail addresses, home-directory paths, private IP addresses "
     "and internal host names (not reported inside tokenizer vocabularies).",
     "Remove personal and internal details from published files unless they are meant to be "
     "public."},
    {"ONNX-EXTERNAL-DATA-TRAVERSAL", "Path Traversal", MS_SEV_HIGH,
     "An ONNX tensor keeps its data in an external file whose location is absolute or climbs "
     "out of the model folder after normalisation ('../../etc/passwd', 'a/../../x'); loaders "
     "read that file into the model's weights.",
     "Do not load the model; external data must be a relative path inside the model folder. "
     "Re-export the model from a trusted source."},
    {"ONNX-CUSTOM-OPERATOR", "Custom Operator", MS_SEV_MEDIUM,
     "An ONNX node uses an operator from a domain that is neither standard ONNX ('', ai.onnx, "
     "ai.onnx.ml, ai.onnx.training, ai.onnx.preview.training) nor onnxruntime's contrib set "
     "(com.microsoft), and is not a function defined in the model: running it needs native code "
     "registered by whoever loads the model.",
     "Run the model only with custom-operator libraries you build or trust; check where the "
     "library the model expects comes from."},
    {"ONNX-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "An ONNX model cannot be fully parsed: broken protobuf framing, a known field with the "
     "wrong wire type (protobuf silently ignores it), a node without op_type, no ir_version, no "
     "graph. What follows the break inside that message was not analysed.",
     "Do not load the model; a file the scanner cannot read cannot be vouched for."},
    {"TF-PYTHON-OP", "Arbitrary Code Execution", MS_SEV_CRITICAL,
     "A TensorFlow graph (SavedModel, frozen GraphDef, function library) uses PyFunc, "
     "PyFuncStateless or EagerPyFunc - as a node or through a function attribute - which call "
     "Python code of the loading process.",
     REC_DO_NOT_LOAD},
    {"TF-FILE-OP", "File System Access", MS_SEV_HIGH,
     "A TensorFlow graph uses an op that reads, writes, lists or deletes files (ReadFile, "
     "WriteFile, MatchingFiles, readers, file-backed datasets, summary and debug writers, "
     "ImmutableConst, text-file tables, PrintV2 to a file), or a checkpoint op (SaveV2, "
     "RestoreV2, MergeV2Checkpoints ...) outside the saver functions TensorFlow generates.",
     "Do not serve the model until you know why the graph touches the file system; checkpoint "
     "ops outside the saver are not produced by TensorFlow's exporters."},
    {"TF-UNKNOWN-OP", "Unknown Operator", MS_SEV_LOW,
     "A TensorFlow graph uses ops that are not on the scanner's list of standard ops (one "
     "finding per file, listing them): custom ops whose kernels come from a native library, or "
     "ops this version does not know.",
     "Check that each listed op is a standard TensorFlow op or comes from a library you trust."},
    {"TF-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A TensorFlow SavedModel, GraphDef or keras_metadata.pb cannot be fully parsed: broken "
     "protobuf framing, a known field with the wrong wire type, a node without an op, no graph.",
     "Do not load the model; a file the scanner cannot read cannot be vouched for."},
    {"SAFETENSORS-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A safetensors header that does not describe the data exactly: header length past the end "
     "of the file or above 100 MB, not strict JSON (duplicate keys, NaN, garbage), not an "
     "object, an unknown dtype, a tensor entry with missing or extra keys, negative or "
     "non-integer shapes or offsets, offsets outside the data area, overlapping tensors, gaps, "
     "trailing bytes, shape x dtype size different from the byte span, __metadata__ not "
     "string to string.",
     "Do not load the file; re-export the weights from a trusted source. A header that does "
     "not account for every byte is where a payload hides from scanners."},
    {"GGUF-MALFORMED", "Malformed Model File", MS_SEV_HIGH,
     "A GGUF file that cannot be fully parsed: unsupported version, tensor or key/value counts "
     "and string or array lengths that do not fit the bytes left, unknown value or tensor "
     "types, invalid booleans, non-ASCII or duplicate keys, more than 4 dimensions, rows not a "
     "multiple of the block size, a bad general.alignment, tensor data outside the file, "
     "misaligned or out of order, duplicate tensor names.",
     "Do not load the file; GGUF parsers have been exploited through exactly such headers. "
     "Obtain the model from a trusted source."},
    {"TEMPLATE-INJECTION", "Template Injection", MS_SEV_CRITICAL,
     "A Jinja2 chat template (GGUF tokenizer.chat_template and tokenizer.chat_template.*, "
     "chat_template in tokenizer_config.json, a chat_template.jinja file) reaches Python "
     "internals: dunder or private attributes (__class__, __globals__, __subclasses__ ...), "
     "os/popen/eval/exec/getattr, gadget globals (cycler, joiner, lipsum, self, config, "
     "request ...), the attr filter with a computed or private name, strings assembled into "
     "dunder names (concatenation, escapes, %c formats), or {% import/include/extends %}.",
     "Do not load the model with any tool that renders its chat template (llama-cpp-python, "
     "inference servers, transformers' apply_chat_template); treat the repository as "
     "compromised and replace the template with a known-good one from the original model."},
    {"DEPENDENCY-VULNERABLE", "Outdated Dependencies", MS_SEV_MEDIUM,
     "A package version the repository names (config.json transformers_version and other "
     "<library>_version keys, requirements*.txt, pyproject.toml, setup.cfg, setup.py pins; the "
     "lowest version a range pin allows) is affected by a known advisory (OSV). Raised to the "
     "advisory's severity when that is higher.",
     "Load the model only with a release that no advisory affects (the finding names the first "
     "one) and update the pin. A version in config.json is the one that saved the model: check "
     "the version installed where the model will be loaded."},
    {"DEPENDENCY-UNCHECKED", "Unscanned Content", MS_SEV_LOW,
     "A dependency declaration that cannot be checked against advisories: a version or "
     "specifier that is not PEP 440, a URL, VCS or local-path requirement, an -r/-c include "
     "whose file is not in the repository, a config file that is not valid JSON.",
     "Pin the package to a released PyPI version and check it against current advisories "
     "before installing; review URL and VCS requirements by hand."},
    {"ADVISORIES-UNREADABLE", "Unscanned Content", MS_SEV_MEDIUM,
     "The advisory database given with --advisories (a folder, .zip or .json of OSV records) "
     "cannot be read, holds no records, or some of its records cannot be used; dependencies "
     "were checked against what could be read and the built-in set.",
     "Fix or re-download the advisory database (osv.dev's PyPI export) and scan again."},
    {"REMOTE-CODE-REQUIRED", "Remote Code Required", MS_SEV_HIGH,
     "A configuration makes the loader import Python code: auto_map or custom_pipelines class "
     "references (module files of the repository, or of another repository with 'org/repo--'), "
     "diffusers custom components, sentence-transformers custom modules, an attention "
     "implementation naming a Hub repository (CVE-2026-4372), trust_remote_code set to true.",
     "Load the model only after reviewing its Python code (see the CUSTOM-CODE findings) and "
     "only from a publisher you trust; pin a revision so the code cannot change; never run code "
     "from another repository you have not reviewed; use transformers 5.3.0 or later."},
    {"CUSTOM-CODE-DANGEROUS", "Dangerous Custom Code", MS_SEV_CRITICAL,
     "The repository's Python (a .py file, a notebook cell, or code it passes to exec) starts "
     "processes, evaluates code built at run time, imports modules or looks up dangerous "
     "attributes by computed names, walks interpreter internals, opens sockets or HTTP "
     "connections, deserialises pickle/marshal/unsafe YAML, loads native code, or rewrites "
     "sys.modules, import hooks or builtins.",
     "Do not load this model with trust_remote_code=True and do not run its notebooks: this is "
     "what malicious repositories do, not modeling code. Review the reported lines."},
    {"CUSTOM-CODE-RISKY", "Dangerous Custom Code", MS_SEV_HIGH,
     "The repository's Python writes, deletes, moves or changes permissions of files outside "
     "the repository (absolute paths, '..', the home directory), reads files in the home "
     "directory, monkey-patches library modules or classes, or runs code from another "
     "repository (torch.hub.load, trust_remote_code=True, custom_pipeline).",
     "Review the reported lines before loading the model: modeling code has no reason to touch "
     "files outside its folder or to change other libraries. Run untrusted code only in an "
     "isolated environment."},
    {"CUSTOM-CODE-NETWORK", "Dangerous Custom Code", MS_SEV_MEDIUM,
     "The repository's Python downloads files from the Hugging Face Hub or another model hub "
     "at run time (hf_hub_download, snapshot_download, HfApi, torch.hub.download_url_to_file, "
     "datasets.load_dataset): what it fetches was not scanned.",
     "Check what is downloaded and from where, pin revisions, and scan the downloaded files "
     "too (or provide them locally)."},
    {"CUSTOM-CODE-MALFORMED", "Malformed Model File", MS_SEV_MEDIUM,
     "A Python file or notebook cell that Python would refuse to compile (unterminated string, "
     "unmatched bracket, invalid character, null byte), or a notebook whose structure is not "
     "what Jupyter writes. What could be read was analysed; the rest is unscanned.",
     "Find out why the file is broken before running anything from the repository; treat the "
     "unreadable part as unscanned."},
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
