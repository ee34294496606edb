/* test_policy.c - allow/deny decisions for pickle globals. */
#include "unit.h"
#include "../../src/policy/pickle_policy.h"

static pickle_verdict v(const char *m, const char *n)
{
    return pickle_policy_classify(m, n).verdict;
}

void test_policy(void)
{
    /* dangerous, including submodules and py2 names */
    CHECK(v("posix", "system") == PICKLE_DANGEROUS);
    CHECK(v("nt", "system") == PICKLE_DANGEROUS);
    CHECK(v("os", "system") == PICKLE_DANGEROUS);
    CHECK(v("subprocess", "Popen") == PICKLE_DANGEROUS);
    CHECK(v("asyncio.unix_events", "_UnixSelectorEventLoop") == PICKLE_DANGEROUS);
    CHECK(v("asyncio", "subprocess.create_subprocess_shell") == PICKLE_DANGEROUS);
    CHECK(v("builtins", "eval") == PICKLE_DANGEROUS);
    CHECK(v("__builtin__", "eval") == PICKLE_DANGEROUS);
    CHECK(v("__builtin__", "reduce") == PICKLE_DANGEROUS); /* functools.reduce */
    CHECK(v("commands", "getoutput") == PICKLE_DANGEROUS); /* -> subprocess */
    CHECK(v("pip", "main") == PICKLE_DANGEROUS);
    CHECK(v("pip._internal.cli.main", "main") == PICKLE_DANGEROUS);
    CHECK(v("torch", "load") == PICKLE_DANGEROUS);
    CHECK(v("operator", "attrgetter") == PICKLE_DANGEROUS);
    CHECK(v("functools", "partial") == PICKLE_DANGEROUS);
    CHECK(pickle_policy_classify("pickle", "loads").role == PICKLE_ROLE_LOADER);
    CHECK(pickle_policy_classify("builtins", "getattr").role == PICKLE_ROLE_GETATTR);

    /* attribute walks: tails of the name and dunders */
    CHECK(v("torch.nn.modules.module", "torch.load") == PICKLE_DANGEROUS);
    CHECK(v("collections", "OrderedDict.__init__.__globals__") == PICKLE_DANGEROUS);
    CHECK(v("posixpath", "os") == PICKLE_DANGEROUS);
    CHECK(v("numpy", "ndarray..x") == PICKLE_DANGEROUS);

    /* os.path is not code execution, but not safe either */
    CHECK(v("os.path", "join") == PICKLE_UNKNOWN);
    CHECK(v("posixpath", "join") == PICKLE_UNKNOWN);
    CHECK(v("os", "path.join") == PICKLE_UNKNOWN);

    /* default deny */
    CHECK(v("mylib.helpers", "Thing") == PICKLE_UNKNOWN);
    CHECK(v("base64", "b64decode") == PICKLE_UNKNOWN);
    CHECK(pickle_policy_classify("base64", "b64decode").role == PICKLE_ROLE_B64DECODE);
    CHECK(v("", "x") == PICKLE_UNKNOWN);

    /* safe vocabulary */
    CHECK(v("collections", "OrderedDict") == PICKLE_SAFE);
    CHECK(v("torch._utils", "_rebuild_tensor_v2") == PICKLE_SAFE);
    CHECK(v("torch", "FloatStorage") == PICKLE_SAFE);
    CHECK(v("torch", "FloatTensor") == PICKLE_SAFE); /* pre-1.0 tar tensor records */
    CHECK(v("torch", "FloatTensor.register_hook") == PICKLE_UNKNOWN);
    CHECK(v("torch", "bfloat16") == PICKLE_SAFE);
    CHECK(v("numpy.core.multiarray", "_reconstruct") == PICKLE_SAFE);
    CHECK(v("numpy._core.multiarray", "_reconstruct") == PICKLE_SAFE);
    CHECK(v("__builtin__", "set") == PICKLE_SAFE);
    CHECK(v("__builtin__", "xrange") == PICKLE_SAFE);
    CHECK(v("copy_reg", "_reconstructor") == PICKLE_SAFE);
    CHECK(v("_codecs", "encode") == PICKLE_SAFE);
    CHECK(v("sklearn.linear_model._logistic", "LogisticRegression") == PICKLE_SAFE);
    CHECK(v("torch.nn.modules.linear", "Linear") == PICKLE_SAFE);
    CHECK(pickle_policy_classify("collections", "OrderedDict").methods_safe);

    /* class prefixes cover CamelCase classes only, never functions or walks */
    CHECK(v("sklearn.utils", "check_array") == PICKLE_UNKNOWN);
    CHECK(v("torch.nn.modules.module", "Module.register_forward_hook") == PICKLE_UNKNOWN);
    CHECK(v("torch", "Tensor.register_hook") == PICKLE_UNKNOWN);
}
