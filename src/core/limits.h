/*
 * limits.h - every default limit in one place, with the reason for it.
 *
 * These are copied into a runtime ms_limits that the command line (and later
 * a policy file) can tighten. Hitting a limit is always a finding
 * ("Scan Limit Exceeded"), never a silent pass.
 */
#ifndef MS_LIMITS_H
#define MS_LIMITS_H

/* Files are memory-mapped, so size costs address space, not RAM; 64 GiB covers
 * the largest single-file checkpoints published today. */
#define MS_DEFAULT_MAX_FILE_BYTES (64ULL << 30)

/* A real pickle needs about one opcode per 2-10 bytes; a billion opcodes
 * covers multi-GB pickles while bounding a scan to seconds. */
#define MS_DEFAULT_PICKLE_MAX_OPCODES 2000000000ULL

/* Real pickles push a few hundred values between MARKs (pickle batches
 * appends by 1000); 4 Mi values is 64 MiB of stack at most. */
#define MS_DEFAULT_PICKLE_MAX_STACK (4U << 20)

/* MARK nesting follows object nesting depth; Python's own recursion limit is
 * 1000, so nothing legitimate gets near 100 000. */
#define MS_DEFAULT_PICKLE_MAX_MARKS 100000U

/* Memo indices are sequential from 0; 32 Mi entries (512 MiB of slots at
 * most) exceeds the memo of any real checkpoint by orders of magnitude. */
#define MS_DEFAULT_PICKLE_MAX_MEMO (32U << 20)

/* Legacy torch.save writes 5 pickles; joblib one per array; 4096 leaves room
 * for odd producers while stopping a file made of millions of tiny pickles. */
#define MS_DEFAULT_PICKLE_MAX_STREAMS 4096U

/* Distinct globals per stream: a full nn.Module imports a few dozen. */
#define MS_DEFAULT_PICKLE_MAX_GLOBALS 65536U

/* pickle.loads(base64(zlib(pickle.loads(...)))) chains: 4 levels is more than
 * any legitimate use (torch storages use exactly one). */
#define MS_DEFAULT_NESTED_MAX_DEPTH 4U

/* Decoded bytes for nested pickles (base64, zlib) per top-level file. */
#define MS_DEFAULT_NESTED_MAX_BYTES (256ULL << 20)

/* A model repository holds tens to a few thousand files. */
#define MS_DEFAULT_WALK_MAX_FILES 200000U

/* Directory nesting; Hugging Face repos are rarely more than 5 deep. */
#define MS_DEFAULT_WALK_MAX_DEPTH 64U

/* Containers inside containers: real models nest at most 3 deep
 * (7z > PyTorch zip > pickle); 10 stops a 50-deep nest early. */
#define MS_DEFAULT_ARCHIVE_MAX_DEPTH 10U

/* Members per top-level file: a sharded checkpoint zip has thousands of
 * storages; a million stops a bomb of empty members. */
#define MS_DEFAULT_ARCHIVE_MAX_MEMBERS 1000000ULL

/* Bytes decompressed or extracted per top-level file: 32 GiB covers the
 * largest compressed checkpoints while bounding the time a bomb costs. */
#define MS_DEFAULT_ARCHIVE_MAX_EXPANDED (32ULL << 30)

/* One decompressed member is held in memory to be analysed: 2 GiB. Larger
 * compressed members are reported instead of allocated. */
#define MS_DEFAULT_ARCHIVE_MAX_MEMBER (2ULL << 30)

/* Decompressed:compressed ratio for members over 1 MiB. Zero-filled tensors
 * compress about 1000:1 with deflate; bombs reach millions to one. */
#define MS_DEFAULT_ARCHIVE_MAX_RATIO 5000U

/* Protobuf message nesting (ONNX subgraphs inside If/Loop/Scan attributes,
 * TensorFlow attribute lists): the protobuf library refuses more than 100
 * levels by default, so a deeper file cannot be loaded either. */
#define MS_DEFAULT_PROTOBUF_MAX_DEPTH 100U

/* A Keras model configuration (HDF5 model_config, .keras config.json): a
 * 1000-layer functional model is a few MB of JSON; 16 MiB leaves room while
 * bounding jansson's memory (tens of bytes per value) to a few hundred MB. */
#define MS_DEFAULT_KERAS_CONFIG_MAX_BYTES (16ULL << 20)

/* JSON nesting walked in a Keras config: each nested model adds about four
 * levels, so 200 allows ~50 models inside models (jansson stops at 2048). */
#define MS_DEFAULT_KERAS_CONFIG_MAX_DEPTH 200U

/* libhdf5 reads a file's root attributes in a child process. Reading a
 * Keras file's attributes takes milliseconds; a child that needs longer
 * than this (wall clock; CPU time is limited to the same) is killed. */
#define MS_DEFAULT_HDF5_CHILD_SECONDS 20U

/* Address space the child may add to what it inherited: the attributes are
 * at most a few config caps, so 1 GiB stops allocation bombs early. */
#define MS_DEFAULT_HDF5_CHILD_MEMORY (1ULL << 30)

/* Python analysis (src/repo/pyscan.c). Findings listed per Python file or
 * notebook: a hundred dangerous call sites already say "do not load"; the
 * rest are counted in one SCAN-LIMIT finding rather than listed. */
#define MS_DEFAULT_PYSCAN_MAX_FINDINGS 100U

/* Tokens of one logical line kept for the statement walker: a generated
 * 100 000-entry vocabulary dict literal is ~400 000 tokens. Past this the
 * rest of the line is only searched for dangerous call patterns. */
#define MS_DEFAULT_PYSCAN_MAX_LINE_TOKENS (1U << 20)

/* Expression nesting the walker follows (brackets, unary operators,
 * lambdas): CPython refuses 200 nested brackets and overflows its parser
 * stack near 1000 levels, so valid code stays below this. */
#define MS_DEFAULT_PYSCAN_MAX_DEPTH 400U

/* Memory for the values tracked in one file (constant strings, decoded
 * payloads, names): real modules need a few MB. Past this, values become
 * unknown (reported as SCAN-LIMIT); calls are still found. */
#define MS_DEFAULT_PYSCAN_MAX_VALUE_BYTES (256ULL << 20)

/* JSON nesting searched for auto_map, custom_pipelines, trust_remote_code:
 * model configs nest 3-4 levels (text_config, vision_config). */
#define MS_DEFAULT_REMOTE_CODE_MAX_DEPTH 64U

/* Wall-clock seconds per top-level file. */
#define MS_DEFAULT_SCAN_MAX_SECONDS 600U

/* Threads analysing files (--jobs): more than this only adds memory (each
 * thread can hold a large pickle memo) on any machine we expect. */
#define MS_MAX_JOBS 256U

/* A policy file is a short hand-written YAML document: a few dozen
 * entries per list. Entries and keys are capped so that checking a list for
 * repeated keys and matching suppressions against findings stay cheap. */
#define MS_POLICY_MAX_BYTES (1U << 20)
#define MS_POLICY_MAX_ENTRIES 1000U

#endif
