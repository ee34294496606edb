/*
 * osv_builtin.c - a small built-in set of the best-known advisories for
 * libraries that load models, used when no --advisories database is given
 * (and alongside one: a loaded record with the same id or alias replaces
 * the built-in one).
 *
 * Every row is written from public facts: the advisory id and its aliases,
 * the affected ranges and fixed versions as the Python Packaging Advisory
 * Database (PyPA, CC-BY-4.0, via its OSV export) publishes them, and the CVSS
 * v3 vector from the record (or, where the record has none, the NVD base
 * vector; marked "NVD"). The two keras CVEs whose PyPA records carry no
 * range (CVE-2025-8747, CVE-2025-9906) use the range of their GitHub
 * advisories: 3.0.0 up to the 3.11.0 fix.
 *
 * Events use the OSV names: "introduced=A fixed=B" per interval, several
 * intervals in one string, "last_affected=C" where no fix is named, and
 * "versions=X,Y" for explicitly listed versions.
 *
 * This set is a safety net, not a database: scan with --advisories and a
 * current osv.dev PyPI export for complete results.
 */
#include "osv.h"

#define V_RCE_NET "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"      /* 9.8 */
#define V_RCE_NET_UI "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H"   /* 8.8 */
#define V_RCE_LOCAL_UI "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H" /* 7.8 */

static const osv_builtin_advisory table[] = {
    /* ---- transformers ---- */
    /* PYSEC-2023-300: RagRetriever loads a pickled legacy index (deserialization) */
    {"PYSEC-2023-300", "CVE-2023-6730 GHSA-3863-2447-669p", "transformers",
     "introduced=0 fixed=4.36.0", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     "Deserialization of untrusted data in transformers (RAG retriever index)"},
    /* PYSEC-2023-301: TransfoXL tokenizer vocabulary unpickled */
    {"PYSEC-2023-301", "CVE-2023-7018 GHSA-v68g-wm8c-6x7j", "transformers",
     "introduced=0 fixed=4.36.0", V_RCE_LOCAL_UI,
     "Deserialization of untrusted data in transformers (TransfoXL vocabulary)"},
    /* PYSEC-2026-1978: Trainer checkpoint RNG state loaded with pickle */
    {"PYSEC-2026-1978", "CVE-2024-3568 GHSA-37q5-v5qm-c9v8", "transformers",
     "introduced=0 fixed=4.38.0", "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:N/I:N/A:L",
     "Transformers deserialization of untrusted data (Trainer checkpoint)"},
    /* PYSEC-2024-227 / -228 / -229: ZDI model-loading deserialization RCEs */
    {"PYSEC-2024-227", "CVE-2024-11392 GHSA-qxrp-vhvm-j765", "transformers",
     "introduced=0 fixed=4.48.0", V_RCE_NET_UI,
     "Transformers MobileViTV2 deserialization of untrusted data remote code execution"},
    {"PYSEC-2024-228", "CVE-2024-11393 GHSA-wrfc-pvp9-mr9g", "transformers",
     "introduced=0 fixed=4.48.0", V_RCE_NET_UI,
     "Transformers MaskFormer model deserialization of untrusted data remote code execution"},
    {"PYSEC-2024-229", "CVE-2024-11394 GHSA-hxxf-235m-72v3", "transformers",
     "introduced=0 fixed=4.48.0", V_RCE_NET_UI,
     "Transformers Trax model deserialization of untrusted data remote code execution"},
    /* PYSEC-2025-212: Transformer-XL model deserialization, no fix named */
    {"PYSEC-2025-212", "CVE-2025-14921", "transformers", "introduced=0 last_affected=4.54.1",
     "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     "Transformers Transformer-XL model deserialization of untrusted data remote code execution"},
    /* PYSEC-2026-2288: Trainer._load_rng_state calls torch.load without weights_only */
    {"PYSEC-2026-2288", "CVE-2026-1839 GHSA-69w3-r845-3855", "transformers",
     "introduced=0 fixed=5.0.0", V_RCE_LOCAL_UI,
     "Transformers Trainer loads checkpoint RNG state with torch.load (arbitrary code)"},
    /* PYSEC-2026-2289: config.json _attn_implementation_internal loads remote code */
    {"PYSEC-2026-2289", "CVE-2026-4372 GHSA-29pf-2h5f-8g72", "transformers",
     "introduced=0 fixed=5.3.0", "CVSS:3.0/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     "Transformers config.json _attn_implementation_internal runs code from another repository"},
    /* PYSEC-2026-2290: LightGlue model loading path, no fix named */
    {"PYSEC-2026-2290", "CVE-2026-5241 GHSA-fgcw-684q-jj6r", "transformers",
     "introduced=0 last_affected=5.2.0", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
     "Transformers LightGlue model loading runs untrusted code"},

    /* ---- torch ---- */
    /* PYSEC-2025-41: torch.load(weights_only=True) still reaches code execution */
    {"PYSEC-2025-41", "CVE-2025-32434 GHSA-53q9-r3pm-6pq6", "torch", "introduced=0 fixed=2.6.0",
     V_RCE_NET, "PyTorch torch.load with weights_only=True leads to remote code execution"},
    /* PYSEC-2026-2286: weights_only unpickler memory corruption */
    {"PYSEC-2026-2286", "CVE-2026-24747 GHSA-63cw-57p8-fm3p", "torch",
     "introduced=0 fixed=2.10.0", V_RCE_NET_UI,
     "PyTorch weights_only unpickler memory corruption from a crafted checkpoint"},
    /* PYSEC-2024-259: RemoteModule deserialization (disputed) */
    {"PYSEC-2024-259", "CVE-2024-48063", "torch", "introduced=0 fixed=2.5.0", V_RCE_NET,
     "PyTorch RemoteModule deserialization remote code execution (disputed)"},
    /* PYSEC-2022-43015: torch.jit.annotations.parse_type_line evaluates text; NVD */
    {"PYSEC-2022-43015", "CVE-2022-45907 GHSA-47fc-vmwq-366v", "torch",
     "introduced=0 fixed=1.13.1", V_RCE_NET,
     "PyTorch torch.jit.annotations.parse_type_line can cause arbitrary code execution (eval)"},

    /* ---- keras ---- */
    /* PYSEC-2025-122: Model.load_model safe_mode bypass via config.json */
    {"PYSEC-2025-122", "CVE-2025-1550 GHSA-48g7-3x6r-xfhp", "keras",
     "introduced=3.0.0 fixed=3.8.0", V_RCE_NET,
     "Keras Model.load_model arbitrary code execution even with safe_mode=True"},
    /* PYSEC-2025-75: safe mode bypass in Model.load_model (.keras archive) */
    {"PYSEC-2025-75", "CVE-2025-8747 GHSA-c9rc-mg46-23w3", "keras",
     "introduced=3.0.0 fixed=3.11.0", V_RCE_LOCAL_UI,
     "Keras Model.load_model safe mode bypass (crafted .keras archive)"},
    /* PYSEC-2025-76: config.json re-enables unsafe deserialization, then Lambda */
    {"PYSEC-2025-76", "CVE-2025-9906 GHSA-36fq-jgmw-4r9c", "keras",
     "introduced=3.0.0 fixed=3.11.0", "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H",
     "Keras config.json calls enable_unsafe_deserialization() and runs Lambda code"},
    /* PYSEC-2025-123: load_model ignores safe_mode for legacy HDF5 models */
    {"PYSEC-2025-123", "CVE-2025-9905 GHSA-36rr-ww3j-vrjv", "keras",
     "introduced=3.0.0 fixed=3.11.3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:H/I:H/A:H",
     "Keras Model.load_model arbitrary code execution with safe_mode=True (HDF5)"},
    /* PYSEC-2026-368: deserialization of untrusted data */
    {"PYSEC-2026-368", "CVE-2025-49655 GHSA-cvhh-q5g5-qprp", "keras",
     "introduced=3.11.0 fixed=3.11.3", V_RCE_NET,
     "Keras deserialization of untrusted data"},
    /* PYSEC-2026-369: Lambda layer code injection; the fix is a pre-release */
    {"PYSEC-2026-369", "CVE-2024-3660 GHSA-x4wf-678h-2pmq", "keras",
     "introduced=0 fixed=2.13.1rc0", V_RCE_NET, "Keras code injection (Lambda layer)"},
    /* PYSEC-2026-2547: TFSMLayer loads SavedModels despite safe_mode */
    {"PYSEC-2026-2547", "CVE-2026-1462 GHSA-4f3f-g24h-fr8m", "keras",
     "introduced=0 fixed=3.13.2", "CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
     "Keras untrusted deserialization (TFSMLayer in .keras models)"},

    /* ---- llama-cpp-python ---- */
    /* PYSEC-2026-392: Jinja2 chat template from GGUF metadata rendered unsandboxed */
    {"PYSEC-2026-392", "CVE-2024-34359 GHSA-56xg-wfcc-g829", "llama-cpp-python",
     "introduced=0.2.30 fixed=0.2.72", "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
     "llama-cpp-python remote code execution by server-side template injection in model "
     "metadata"},

    /* ---- joblib, numpy, pyyaml, nltk: loaders that unpickle or evaluate ---- */
    /* PYSEC-2022-288: eval of pre_dispatch; NVD */
    {"PYSEC-2022-288", "CVE-2022-21797 GHSA-6hrg-qmvc-2xh8", "joblib",
     "introduced=0 fixed=1.2.0", V_RCE_NET,
     "joblib arbitrary code execution via the pre_dispatch flag (eval)"},
    /* PYSEC-2019-108: numpy.load allowed pickles by default (disputed); NVD */
    {"PYSEC-2019-108", "CVE-2019-6446 GHSA-9fq2-x9r6-wfmf", "numpy", "introduced=0 fixed=1.16.1",
     V_RCE_NET, "NumPy numpy.load unpickles object arrays by default (allow_pickle=True)"},
    /* PYSEC-2018-49: yaml.load runs arbitrary code; NVD */
    {"PYSEC-2018-49", "CVE-2017-18342 GHSA-rprw-h62v-c2w7", "pyyaml", "introduced=0 fixed=5.1",
     V_RCE_NET, "PyYAML yaml.load can execute arbitrary code"},
    /* PYSEC-2020-96: FullLoader arbitrary code execution; NVD */
    {"PYSEC-2020-96", "CVE-2020-1747 GHSA-6757-jp84-gxfx", "pyyaml",
     "introduced=5.1 fixed=5.3.1", V_RCE_NET,
     "PyYAML FullLoader arbitrary code execution (python/object/new)"},
    /* PYSEC-2021-142: FullLoader arbitrary code execution, incomplete fix; NVD */
    {"PYSEC-2021-142", "CVE-2020-14343 GHSA-8q59-q68h-6hv4", "pyyaml", "introduced=0 fixed=5.4",
     V_RCE_NET, "PyYAML FullLoader arbitrary code execution (incomplete fix of CVE-2020-1747)"},
    /* PYSEC-2024-167: pickled packages run code on load; NVD */
    {"PYSEC-2024-167", "CVE-2024-39705 GHSA-cgvx-9447-vcch", "nltk", "introduced=0 fixed=3.9",
     V_RCE_NET, "NLTK remote code execution from pickled data packages"},

    /* ---- onnx ---- */
    /* PYSEC-2023-38: external_data path traversal; NVD */
    {"PYSEC-2023-38", "CVE-2022-25882 GHSA-ffxj-547x-5j7c", "onnx", "introduced=0 fixed=1.13.0",
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
     "ONNX directory traversal through external_data locations"},
    /* PYSEC-2024-222: external_data path traversal (incomplete fix) */
    {"PYSEC-2024-222", "CVE-2024-27318 GHSA-whh8-fjgc-qp73", "onnx", "introduced=0 fixed=1.16.0",
     "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
     "ONNX directory traversal through external_data (bypass of the CVE-2022-25882 fix)"},
    /* PYSEC-2025-148: save_external_data path traversal, no fix named */
    {"PYSEC-2025-148", "CVE-2025-51480 GHSA-6rq9-53c3-f7vj", "onnx",
     "introduced=0 last_affected=1.17.0", V_RCE_NET_UI,
     "ONNX path traversal in external_data_helper.save_external_data"},

    /* ---- tensorflow ---- */
    /* PYSEC-2021-300: model_from_yaml runs arbitrary code (ranges as PyPA lists them); NVD */
    {"PYSEC-2021-300", "CVE-2021-37678 GHSA-r6jx-9g48-2r5r", "tensorflow",
     "introduced=2.3.0 fixed=2.3.4 introduced=2.4.0 fixed=2.4.3",
     "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     "TensorFlow/Keras model_from_yaml arbitrary code execution (yaml.unsafe_load)"},
    /* PYSEC-2021-420: saved_model_cli code injection; NVD */
    {"PYSEC-2021-420", "CVE-2021-41228 GHSA-3rcw-9p9x-582v", "tensorflow",
     "introduced=0 fixed=2.4.4 introduced=2.5.0 fixed=2.5.2 introduced=2.6.0 fixed=2.6.1 "
     "introduced=2.7.0rc0 fixed=2.7.0",
     "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     "TensorFlow saved_model_cli code injection (eval of --input_examples)"},
    /* PYSEC-2026-3125: saved_model_cli code injection, second fix */
    {"PYSEC-2026-3125", "CVE-2022-29216 GHSA-75c9-jrh4-79mc", "tensorflow",
     "introduced=0 fixed=2.6.4 introduced=2.7.0 fixed=2.7.2 introduced=2.8.0 fixed=2.8.1",
     "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
     "TensorFlow saved_model_cli code injection"},

    /* ---- diffusers, lightning ---- */
    /* PYSEC-2026-40: trust_remote_code bypass */
    {"PYSEC-2026-40", "CVE-2026-44513 GHSA-98h9-4798-4q5v", "diffusers",
     "introduced=0 fixed=0.38.0", V_RCE_NET_UI,
     "Diffusers trust_remote_code bypass runs code from the model repository"},
    /* PYSEC-2026-3043: load_from_checkpoint unpickles checkpoints, no fix named */
    {"PYSEC-2026-3043", "CVE-2026-31221 GHSA-75m9-98v2-hjpm", "pytorch-lightning",
     "introduced=0 last_affected=2.6.0", V_RCE_LOCAL_UI,
     "PyTorch Lightning load_from_checkpoint insecure checkpoint deserialization"},
    /* PYSEC-2026-508: compromised releases published to PyPI */
    {"PYSEC-2026-508", "CVE-2026-44484 GHSA-w37p-236h-pfx3", "pytorch-lightning",
     "versions=2.6.2,2.6.3", V_RCE_NET, "Compromised PyTorch Lightning releases on PyPI"},
};

const osv_builtin_advisory *osv_builtin_table(size_t *count)
{
    *count = sizeof(table) / sizeof(table[0]);
    return table;
}
