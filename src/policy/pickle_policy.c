/*
 * pickle_policy.c - the allow and deny tables for pickle globals.
 *
 * Matching, in order:
 *  1. py2 module names are mapped the way Python's fix_imports maps them
 *     (__builtin__ -> builtins, copy_reg -> copyreg, commands -> subprocess ...).
 *  2. A dotted name walks attributes at load time (`_getattribute`). Any dunder
 *     segment in a walk (`Module.__init__.__globals__`) is dangerous.
 *  3. Deny: an entry "mod" covers "mod" and every submodule and attribute
 *     ("asyncio" covers asyncio.unix_events._UnixSelectorEventLoop); an entry
 *     "mod.attr" covers that attribute and anything reached through it. The
 *     full path is checked, and so is every tail of the name, so that
 *     torch.nn.modules.module + "torch.load" is still torch.load and
 *     posixpath + "os" is the os module.
 *  4. Allow: exact entries, and a few library prefixes whose *classes* are
 *     safe to construct (a single CamelCase identifier, no dots).
 *  5. Anything else: unknown (default deny).
 */
#include "pickle_policy.h"

#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

typedef struct entry {
    const char *path;
    pickle_role role;
    const char *reason;
} entry;

#define PROC "runs operating-system commands"
#define CODE "evaluates or compiles Python code"
#define IMPORT "imports arbitrary modules"
#define FILES "reads, writes or deletes files"
#define NET "opens network connections or downloads"
#define LOADER "deserializes a nested object (a pickle inside the pickle)"
#define ATTR "reaches arbitrary attributes (attribute-walking gadget)"
#define NATIVE "loads native code or manipulates memory"
#define DEBUG "starts a debugger or profiler that runs code"

static const entry deny[] = {
    /* process execution */
    {"os", 0, PROC " (os module)"},
    {"posix", 0, PROC},
    {"nt", 0, PROC},
    {"subprocess", 0, PROC},
    {"_posixsubprocess", 0, PROC},
    {"_winapi", 0, PROC},
    {"pty", 0, PROC},
    {"popen2", 0, PROC},
    {"platform.popen", 0, PROC},
    {"multiprocessing", 0, PROC},
    {"concurrent", 0, PROC},
    {"asyncio", 0, PROC " (asyncio and all its submodules)"},
    {"threading", 0, "starts threads running arbitrary callables"},
    {"_thread", 0, "starts threads running arbitrary callables"},
    {"signal", 0, "installs signal handlers"},
    /* code evaluation and import */
    {"builtins.eval", 0, CODE},
    {"builtins.exec", 0, CODE},
    {"builtins.compile", 0, CODE},
    {"builtins.__import__", 0, IMPORT},
    {"builtins.__build_class__", 0, CODE},
    {"builtins.getattr", PICKLE_ROLE_GETATTR, ATTR},
    {"builtins.setattr", 0, "patches attributes of live objects (Sleepy Pickle)"},
    {"builtins.delattr", 0, "removes attributes of live objects"},
    {"builtins.globals", 0, ATTR},
    {"builtins.locals", 0, ATTR},
    {"builtins.vars", 0, ATTR},
    {"builtins.open", 0, FILES},
    {"builtins.breakpoint", 0, DEBUG},
    {"builtins.input", 0, "reads from the terminal"},
    {"builtins.exit", 0, "terminates the process"},
    {"builtins.quit", 0, "terminates the process"},
    {"builtins.help", 0, "starts the interactive help system"},
    {"builtins.memoryview", 0, NATIVE},
    {"runpy", 0, CODE},
    {"code", 0, CODE},
    {"codeop", 0, CODE},
    {"importlib", 0, IMPORT},
    {"imp", 0, IMPORT},
    {"zipimport", 0, IMPORT},
    {"pkgutil", 0, IMPORT},
    {"doctest", 0, CODE},
    {"pip", 0, "installs packages (pip.main, picklescan CVE-2025-1716)"},
    {"ensurepip", 0, "installs packages"},
    {"setuptools", 0, "builds and installs packages"},
    {"distutils", 0, "builds and installs packages"},
    {"venv", 0, "creates environments and runs installers"},
    {"types.FunctionType", 0, CODE},
    {"types.LambdaType", 0, CODE},
    {"types.CodeType", 0, CODE},
    {"types.MethodType", 0, ATTR},
    {"types.ModuleType", 0, IMPORT},
    {"marshal", 0, "decodes Python bytecode"},
    {"sys", 0, "changes the interpreter (sys module)"},
    {"gc", 0, ATTR},
    {"inspect", 0, ATTR},
    {"operator.attrgetter", 0, ATTR},
    {"operator.methodcaller", 0, ATTR},
    {"functools.partial", 0, "binds a callable for a later call (gadget chains)"},
    {"functools.partialmethod", 0, "binds a callable for a later call (gadget chains)"},
    {"functools.reduce", 0, "calls a callable repeatedly (gadget chains)"},
    {"numexpr.evaluate", 0, CODE},
    /* debuggers and profilers: they run code they are given */
    {"pdb", 0, DEBUG},
    {"bdb", 0, DEBUG},
    {"timeit", 0, DEBUG},
    {"cProfile", 0, DEBUG},
    {"profile", 0, DEBUG},
    {"trace", 0, DEBUG},
    /* files */
    {"shutil", 0, FILES},
    {"tempfile", 0, FILES},
    {"io.open", 0, FILES},
    {"io.FileIO", 0, FILES},
    {"io.open_code", 0, FILES},
    {"_io.open", 0, FILES},
    {"_io.FileIO", 0, FILES},
    {"_io.open_code", 0, FILES},
    {"codecs.open", 0, FILES},
    {"fileinput", 0, FILES},
    {"linecache", 0, FILES},
    {"glob", 0, FILES},
    {"tarfile", 0, FILES},
    {"zipfile", 0, FILES},
    {"shelve", 0, LOADER},
    /* network */
    {"socket", 0, NET},
    {"_socket", 0, NET},
    {"ssl", 0, NET},
    {"socketserver", 0, NET},
    {"webbrowser", 0, "opens URLs in a browser"},
    {"http", 0, NET},
    {"httplib", 0, NET},
    {"urllib", 0, NET},
    {"urllib2", 0, NET},
    {"urllib3", 0, NET},
    {"requests", 0, NET},
    {"httpx", 0, NET},
    {"aiohttp", 0, NET},
    {"ftplib", 0, NET},
    {"smtplib", 0, NET},
    {"telnetlib", 0, NET},
    {"xmlrpc", 0, NET},
    {"paramiko", 0, NET},
    {"torch.hub", 0, NET},
    /* native code */
    {"ctypes", 0, NATIVE},
    {"_ctypes", 0, NATIVE},
    {"cffi", 0, NATIVE},
    {"torch.ops", 0, "calls native operators"},
    {"torch.classes", 0, NATIVE},
    {"torch.utils.cpp_extension", 0, NATIVE},
    {"torch._C", 0, NATIVE},
    {"torch.package", 0, LOADER},
    /* nested loaders */
    {"pickle", PICKLE_ROLE_LOADER, LOADER},
    {"_pickle", PICKLE_ROLE_LOADER, LOADER},
    {"cPickle", PICKLE_ROLE_LOADER, LOADER},
    {"pickletools", 0, LOADER},
    {"dill", PICKLE_ROLE_LOADER, LOADER},
    {"cloudpickle", PICKLE_ROLE_LOADER, LOADER},
    {"joblib.load", PICKLE_ROLE_LOADER, LOADER},
    {"joblib.numpy_pickle.load", PICKLE_ROLE_LOADER, LOADER},
    {"torch.load", PICKLE_ROLE_LOADER, LOADER},
    {"torch.serialization.load", PICKLE_ROLE_LOADER, LOADER},
    {"torch.serialization._load", PICKLE_ROLE_LOADER, LOADER},
    {"torch.serialization._legacy_load", PICKLE_ROLE_LOADER, LOADER},
    {"torch.jit.load", 0, LOADER},
    {"torch.jit._serialization.load", 0, LOADER},
    {"numpy.load", PICKLE_ROLE_LOADER, LOADER},
    {"numpy.loads", PICKLE_ROLE_LOADER, LOADER},
    {"numpy.lib.npyio.load", PICKLE_ROLE_LOADER, LOADER},
    {"numpy.lib._npyio_impl.load", PICKLE_ROLE_LOADER, LOADER},
    {"numpy.core.multiarray.loads", PICKLE_ROLE_LOADER, LOADER},
    {"pandas.read_pickle", PICKLE_ROLE_LOADER, LOADER},
    {"keras.models.load_model", 0, LOADER},
    {"tensorflow.keras.models.load_model", 0, LOADER},
};

/* Exact allow entries. */
typedef struct allow_entry {
    const char *path;
    pickle_role role;
    bool methods_safe;
} allow_entry;

static const allow_entry allow[] = {
    /* builtins used by reduce for plain data */
    {"builtins.set", 0, true},
    {"builtins.frozenset", 0, true},
    {"builtins.bytearray", 0, true},
    {"builtins.bytes", 0, true},
    {"builtins.slice", 0, false},
    {"builtins.complex", 0, false},
    {"builtins.range", 0, false},
    {"builtins.dict", 0, true},
    {"builtins.list", 0, false},
    {"builtins.tuple", 0, false},
    {"builtins.int", 0, true},
    {"builtins.float", 0, true},
    {"builtins.bool", 0, false},
    {"builtins.str", 0, false},
    {"builtins.object", 0, false},
    {"builtins.NotImplemented", 0, false},
    {"builtins.Ellipsis", 0, false},
    {"copyreg._reconstructor", 0, false},
    {"copyreg.__newobj__", 0, false},
    {"copyreg.__newobj_ex__", 0, false},
    {"_codecs.encode", PICKLE_ROLE_ENCODE, false},
    {"collections.OrderedDict", 0, true},
    {"collections.defaultdict", 0, false},
    {"collections.Counter", 0, true},
    {"collections.deque", 0, false},
    {"datetime.datetime", 0, false},
    {"datetime.date", 0, false},
    {"datetime.time", 0, false},
    {"datetime.timedelta", 0, false},
    {"datetime.timezone", 0, false},
    {"decimal.Decimal", 0, false},
    {"fractions.Fraction", 0, false},
    {"uuid.UUID", 0, false},
    {"argparse.Namespace", 0, false},
    {"types.SimpleNamespace", 0, false},
    {"pathlib.PosixPath", 0, false},
    {"pathlib.PurePosixPath", 0, false},
    {"pathlib.WindowsPath", 0, false},
    {"pathlib.PureWindowsPath", 0, false},
    {"re._compile", 0, false},
    {"typing.Any", 0, false},
    /* NumPy reconstruction */
    {"numpy.core.multiarray._reconstruct", 0, false},
    {"numpy._core.multiarray._reconstruct", 0, false},
    {"numpy.core.multiarray.scalar", 0, false},
    {"numpy._core.multiarray.scalar", 0, false},
    {"numpy.core.numeric._frombuffer", 0, false},
    {"numpy._core.numeric._frombuffer", 0, false},
    {"numpy.ndarray", 0, false},
    {"numpy.dtype", 0, false},
    {"numpy.ma.core._mareconstruct", 0, false},
    {"numpy.ma.core.MaskedArray", 0, false},
    {"numpy.matrixlib.defmatrix.matrix", 0, false},
    {"numpy.matrix", 0, false},
    {"numpy.random._pickle.__randomstate_ctor", 0, false},
    {"numpy.random._pickle.__bit_generator_ctor", 0, false},
    {"numpy.random._pickle.__generator_ctor", 0, false},
    {"numpy.random.mtrand.RandomState", 0, false},
    {"numpy.random._mt19937.MT19937", 0, false},
    {"numpy.random._pcg64.PCG64", 0, false},
    {"numpy.random._philox.Philox", 0, false},
    {"numpy.random._sfc64.SFC64", 0, false},
    {"numpy.random._generator.Generator", 0, false},
    /* PyTorch tensor rebuild vocabulary */
    {"torch._utils._rebuild_tensor", 0, false},
    {"torch._utils._rebuild_tensor_v2", 0, false},
    {"torch._utils._rebuild_tensor_v3", 0, false},
    {"torch._utils._rebuild_parameter", 0, false},
    {"torch._utils._rebuild_parameter_with_state", 0, false},
    {"torch._utils._rebuild_qtensor", 0, false},
    {"torch._utils._rebuild_sparse_tensor", 0, false},
    {"torch._utils._rebuild_nested_tensor", 0, false},
    {"torch._utils._rebuild_device_tensor_from_numpy", 0, false},
    {"torch._utils._rebuild_meta_tensor_no_storage", 0, false},
    {"torch._utils._rebuild_wrapper_subclass", 0, false},
    {"torch._tensor._rebuild_from_type", 0, false},
    {"torch._tensor._rebuild_from_type_v2", 0, false},
    {"torch.storage._load_from_bytes", PICKLE_ROLE_LOADER, false},
    {"torch.storage.UntypedStorage", 0, false},
    {"torch.storage.TypedStorage", 0, false},
    {"torch.UntypedStorage", 0, false},
    {"torch.TypedStorage", 0, false},
    {"torch.serialization._get_layout", 0, false},
    {"torch.Size", 0, false},
    {"torch.device", 0, false},
    {"torch.Tensor", 0, false},
    {"torch.nn.parameter.Parameter", 0, false},
    {"torch.nn.parameter.Buffer", 0, false},
    {"torch.nn.parameter.UninitializedParameter", 0, false},
    {"torch.nn.parameter.UninitializedBuffer", 0, false},
    {"torch.torch_version.TorchVersion", 0, false},
    {"torch.strided", 0, false},
    {"torch.sparse_coo", 0, false},
    {"torch.sparse_csr", 0, false},
    {"torch.sparse_csc", 0, false},
    {"torch.sparse_bsr", 0, false},
    {"torch.sparse_bsc", 0, false},
    {"torch._mkldnn", 0, false},
    {"torch.per_tensor_affine", 0, false},
    {"torch.per_channel_affine", 0, false},
    {"torch.per_tensor_symmetric", 0, false},
    {"torch.per_channel_symmetric", 0, false},
    {"torch.per_channel_affine_float_qparams", 0, false},
    /* TorchScript archives: list builders of the C++ unpickler */
    {"torch.jit._pickle.build_intlist", 0, false},
    {"torch.jit._pickle.build_doublelist", 0, false},
    {"torch.jit._pickle.build_boollist", 0, false},
    {"torch.jit._pickle.build_tensorlist", 0, false},
    {"torch.jit._pickle.build_tensor_from_id", 0, false},
    {"torch.jit._pickle.restore_type_tag", 0, false},
    /* joblib array wrappers (the arrays themselves follow inline) */
    {"joblib.numpy_pickle.NumpyArrayWrapper", 0, false},
    {"joblib.numpy_pickle_compat.NDArrayWrapper", 0, false},
    {"joblib.numpy_pickle.NDArrayWrapper", 0, false},
    {"joblib.numpy_pickle.ZNDArrayWrapper", 0, false},
    {"joblib.numpy_pickle_compat.ZNDArrayWrapper", 0, false},
    {"sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper", 0, false},
};

/* torch dtypes, storage classes and legacy tensor types: torch.<name> */
static const char *const torch_names[] = {
    "float32", "float", "float64", "double", "float16", "half", "bfloat16", "int8", "int16",
    "short", "int32", "int", "int64", "long", "uint8", "uint16", "uint32", "uint64", "bool",
    "complex32", "chalf", "complex64", "cfloat", "complex128", "cdouble", "float8_e4m3fn",
    "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "float8_e8m0fnu", "qint8", "quint8",
    "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "FloatStorage", "DoubleStorage",
    "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage", "ShortStorage",
    "CharStorage", "ByteStorage", "BoolStorage", "ComplexFloatStorage", "ComplexDoubleStorage",
    "QInt8Storage", "QUInt8Storage", "QInt32Storage", "QUInt4x2Storage", "QUInt2x4Storage",
    /* legacy tensor types: the type in each tensor record of a pre-1.0 torch
     * tar, which torch.load reads and ignores */
    "FloatTensor", "DoubleTensor", "HalfTensor", "BFloat16Tensor", "LongTensor", "IntTensor",
    "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor",
};

/* Libraries whose classes (CamelCase, no dots) are data holders that are safe
 * to construct; functions in them are not covered. */
static const char *const class_prefixes[] = {
    "torch.nn.modules.",
    "torch.optim.",
    "sklearn.",
    "transformers.training_args.",
    "transformers.training_args_seq2seq.",
    "transformers.trainer_utils.",
    "transformers.trainer_pt_utils.",
    "transformers.generation.configuration_utils.",
    "accelerate.utils.dataclasses.",
    "omegaconf.",
};

typedef struct py2_map {
    const char *from, *to;
} py2_map;

/* fix_imports name mapping for __builtin__ (Lib/_compat_pickle.py) */
static const py2_map py2_builtin_names[] = {
    {"xrange", "range"}, {"unicode", "str"}, {"long", "int"}, {"basestring", "str"},
    {"unichr", "chr"},   {"raw_input", "input"}, {"reduce", "functools.reduce"},
    {"intern", "sys.intern"},
};

static const py2_map py2_modules[] = {
    {"__builtin__", "builtins"}, {"copy_reg", "copyreg"}, {"cPickle", "pickle"},
    {"commands", "subprocess"},  {"Queue", "queue"},      {"urllib2", "urllib.request"},
    {"httplib", "http.client"},  {"thread", "_thread"},   {"exceptions", "builtins"},
    {"cStringIO", "io"},         {"StringIO", "io"},      {"UserDict", "collections"},
};

/* path equals prefix, or starts with prefix followed by '.' */
static bool covers(const char *prefix, const char *path)
{
    size_t n = strlen(prefix);
    return strncmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '.');
}

static const entry *deny_lookup(const char *path)
{
    for (size_t i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
        if (covers(deny[i].path, path)) {
            /* os.path is pure string manipulation: not code execution (but
             * not on the safe list either) */
            if (strcmp(deny[i].path, "os") == 0 && covers("os.path", path))
                continue;
            return &deny[i];
        }
    }
    return NULL;
}

static bool is_dunder(const char *seg, size_t n)
{
    return n > 4 && seg[0] == '_' && seg[1] == '_' && seg[n - 1] == '_' && seg[n - 2] == '_';
}

static bool is_class_identifier(const char *name)
{
    if (!isupper((unsigned char)name[0]))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

pickle_class pickle_policy_classify(const char *module, const char *name)
{
    pickle_class c = {PICKLE_UNKNOWN, PICKLE_ROLE_NONE, "not on the safe list", false};
    char path[1024];
    const char *mod = module;
    for (size_t i = 0; i < sizeof(py2_modules) / sizeof(py2_modules[0]); i++)
        if (strcmp(module, py2_modules[i].from) == 0)
            mod = py2_modules[i].to;
    if (strcmp(module, "__builtin__") == 0) {
        for (size_t i = 0; i < sizeof(py2_builtin_names) / sizeof(py2_builtin_names[0]); i++) {
            if (strcmp(name, py2_builtin_names[i].from) == 0) {
                const char *to = py2_builtin_names[i].to;
                const char *dot = strchr(to, '.');
                if (dot) {
                    /* functools.reduce, sys.intern: another module entirely */
                    snprintf(path, sizeof(path), "%s", to);
                    const entry *d0 = deny_lookup(path);
                    if (d0) {
                        c.verdict = PICKLE_DANGEROUS;
                        c.reason = d0->reason;
                        return c;
                    }
                    return c;
                }
                name = to;
            }
        }
    }
    int n = snprintf(path, sizeof(path), "%s.%s", mod, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        c.verdict = PICKLE_DANGEROUS;
        c.reason = "an implausibly long import path";
        return c;
    }
    if (!*mod || !*name) {
        c.reason = "an empty module or name";
        return c;
    }

    /* dunder segments in an attribute walk */
    bool dotted = strchr(name, '.') != NULL;
    if (dotted) {
        const char *seg = name;
        while (*seg) {
            const char *end = strchr(seg, '.');
            size_t len = end ? (size_t)(end - seg) : strlen(seg);
            if (is_dunder(seg, len) || len == 0) {
                c.verdict = PICKLE_DANGEROUS;
                c.reason = "walks a dunder attribute path to reach interpreter internals";
                return c;
            }
            if (!end)
                break;
            seg = end + 1;
        }
    }

    /* deny: the full path, and every tail of a dotted name */
    const entry *d = deny_lookup(path);
    if (!d) {
        for (const char *t = name; t && *t && !d; t = strchr(t, '.'), t = t ? t + 1 : NULL)
            d = deny_lookup(t);
    }
    if (d) {
        c.verdict = PICKLE_DANGEROUS;
        c.role = d->role;
        c.reason = d->reason;
        return c;
    }

    for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]); i++) {
        if (strcmp(allow[i].path, path) == 0) {
            c.verdict = PICKLE_SAFE;
            c.role = allow[i].role;
            c.methods_safe = allow[i].methods_safe;
            c.reason = "on the safe list";
            return c;
        }
    }
    /* __torch__.* names a class TorchScript compiled from the archive's own
     * code/ (analysed separately); torch.load's C++ unpickler resolves it
     * there, and Python has no such module. Native torch.classes are not
     * covered. */
    if (covers("__torch__", mod) && !covers("__torch__.torch.classes", path)) {
        c.verdict = PICKLE_SAFE;
        c.reason = "a TorchScript class compiled from the archive's code";
        return c;
    }
    if (strcmp(mod, "torch") == 0 && !dotted) {
        for (size_t i = 0; i < sizeof(torch_names) / sizeof(torch_names[0]); i++) {
            if (strcmp(torch_names[i], name) == 0) {
                c.verdict = PICKLE_SAFE;
                c.reason = "a torch dtype, storage class or legacy tensor type";
                return c;
            }
        }
    }
    if (!dotted && is_class_identifier(name)) {
        for (size_t i = 0; i < sizeof(class_prefixes) / sizeof(class_prefixes[0]); i++) {
            size_t plen = strlen(class_prefixes[i]);
            if (strncmp(path, class_prefixes[i], plen) == 0) {
                c.verdict = PICKLE_SAFE;
                c.reason = "a data class of a trusted library";
                return c;
            }
        }
    }

    /* roles of pure helpers that are still not on the safe list */
    static const struct {
        const char *path;
        pickle_role role;
    } helpers[] = {
        {"base64.b64decode", PICKLE_ROLE_B64DECODE},
        {"base64.standard_b64decode", PICKLE_ROLE_B64DECODE},
        {"base64.urlsafe_b64decode", PICKLE_ROLE_B64DECODE},
        {"base64.decodebytes", PICKLE_ROLE_B64DECODE},
        {"base64.decodestring", PICKLE_ROLE_B64DECODE},
        {"binascii.a2b_base64", PICKLE_ROLE_B64DECODE},
        {"base64.b16decode", PICKLE_ROLE_HEXDECODE},
        {"binascii.unhexlify", PICKLE_ROLE_HEXDECODE},
        {"binascii.a2b_hex", PICKLE_ROLE_HEXDECODE},
        {"builtins.bytes.fromhex", PICKLE_ROLE_HEXDECODE},
        {"zlib.decompress", PICKLE_ROLE_ZLIB},
        {"gzip.decompress", PICKLE_ROLE_ZLIB},
        {"codecs.encode", PICKLE_ROLE_ENCODE},
        {"io.BytesIO", PICKLE_ROLE_BYTESIO},
        {"_io.BytesIO", PICKLE_ROLE_BYTESIO},
    };
    for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
        if (strcmp(helpers[i].path, path) == 0)
            c.role = helpers[i].role;
    return c;
}

bool pickle_policy_py3_name(const char *module, const char *name, char *out, size_t outsz)
{
    const char *mod = module, *nm = name;
    for (size_t i = 0; i < sizeof(py2_modules) / sizeof(py2_modules[0]); i++)
        if (strcmp(module, py2_modules[i].from) == 0)
            mod = py2_modules[i].to;
    if (strcmp(module, "__builtin__") == 0) {
        for (size_t i = 0; i < sizeof(py2_builtin_names) / sizeof(py2_builtin_names[0]); i++) {
            if (strcmp(name, py2_builtin_names[i].from) == 0) {
                const char *to = py2_builtin_names[i].to;
                if (strchr(to, '.')) {
                    snprintf(out, outsz, "%s", to);
                    return true;
                }
                nm = to;
            }
        }
    }
    if (mod == module && nm == name)
        return false;
    int n = snprintf(out, outsz, "%s.%s", mod, nm);
    return n > 0 && (size_t)n < outsz;
}
