/* test_template.c - the chat template analyser, token by token, and the
 * exported helpers around it (JSON config parsing, safetensors metadata). */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "../../src/core/limits.h"
#include "../../src/formats/json/json_scan.h"
#include "../../src/formats/safetensors/safetensors_scan.h"
#include "../../src/policy/template_check.h"

/* the constructs found in `text`, as "kind 'name'; ..." */
static char *constructs(const char *text, bool *lex_error)
{
    template_result r;
    template_analyse((const uint8_t *)text, strlen(text), &r);
    size_t cap = 64;
    for (size_t i = 0; i < r.count; i++)
        cap += strlen(r.items[i].kind) + strlen(r.items[i].name) + 8;
    char *out = malloc(cap);
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < r.count && used < cap; i++) {
        int n = snprintf(out + used, cap - used, "%s '%s'; ", r.items[i].kind, r.items[i].name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (lex_error)
        *lex_error = r.lex_error;
    template_result_free(&r);
    return out;
}

static void expect(const char *text, const char *needle)
{
    bool lex;
    char *got = constructs(text, &lex);
    bool ok = needle ? strstr(got, needle) != NULL : got[0] == '\0';
    CHECK(ok);
    if (!ok)
        fprintf(stderr, "  template: %s\n  wanted:   %s\n  got:      %s\n", text,
                needle ? needle : "(nothing)", got);
    free(got);
}

static void test_benign(void)
{
    static const char *const benign[] = {
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
        "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}",
        "{%- set ns = namespace(found=false) -%}{%- for m in messages -%}{%- if m.role == "
        "'system' -%}{%- set ns.found = true -%}{%- endif -%}{%- endfor -%}{{ ns.found }}",
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant') }}",
        "{{ strftime_now('%d %b %Y') }}{{ tools | tojson(indent=4) }}",
        "{% for k, v in tool.parameters.properties.items() %}{{ k }}: {{ v.get('type', 'x') }}"
        "{% endfor %}",
        "{{ message.content.split('</think>')[-1].lstrip('\\n') | trim }}",
        "{% if message['content'].startswith('sys') %}{{ messages[1:][loop.index0 - 1] }}{% endif %}",
        "{{ messages | selectattr('role', 'equalto', 'system') | map(attribute='content') | list }}",
        "{% for i in range(3) %}{{ dict(a=1).items() | list }}{% endfor %}",
        "{{ {'a': {'b': 1}} }}{{ [1, 2][::-1] }}",
        "{# {{ cycler.__init__.__globals__ }} #}{{ x }}",
        "{% raw %}{{ ''.__class__ }}{% endraw %}{{ x }}",
        "{{ 'Explain how __init__ works' }}",
        "{% for request in requests %}{{ request.url }}{% endfor %}",
        "{% macro render(config) %}{{ config.name }}{% endmacro %}",
        "{{ x.tool_calls is defined and x['tool_calls'] is not none }}",
        "{{ '%c' }}{{ 'a_b'.replace('_', ' ') }}{{ cycler('odd', 'even').next() }}",
        "{% generation %}{{ message.content }}{% endgeneration %}{% break %}",
        "{{ messages[0]['content'] }}{{ message['con' ~ 'tent'] }}",
    };
    for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
        expect(benign[i], NULL);
}

static void test_malicious(void)
{
    static const struct {
        const char *text, *needle;
    } cases[] = {
        {"{{ cycler.__init__.__globals__.os.popen('id').read() }}", "dunder attribute '__init__'"},
        {"{{ cycler.__init__.__globals__.os.popen('id').read() }}", "dangerous attribute 'popen'"},
        {"{{ cycler.__init__ }}", "gadget global 'cycler'"},
        {"{{ self._TemplateReference__context }}", "name-mangled private attribute"},
        {"{{ x()._module }}", "private attribute '_module'"},
        {"{{ ''['__class__'] }}", "subscript with a dangerous name '__class__'"},
        {"{{ lipsum['os'] }}", "subscript with a dangerous name 'os'"},
        {"{{ ''|attr('__class__') }}", "attr filter with a dangerous name '__class__'"},
        {"{{ ''|attr(name) }}", "attr filter with a computed name 'name'"},
        {"{{ x | map('attr', '__dict__') }}", "map filter applying attr"},
        {"{{ ''['_'~'_'~'class'~'_'~'_'] }}", "'__class__'"},
        {"{{ x['_' * 2 + 'globals' + 2 * '_'] }}", "'__globals__'"},
        {"{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}", "escaped identifier character"},
        {"{{ x['\\x5f\\x5fclass\\x5f\\x5f'] }}", "'__class__'"},
        {"{{ x|attr('\\u005f\\u005fmro\\u005f\\u005f') }}", "'__mro__'"},
        {"{{ x|attr('\\N{LOW LINE}\\N{low line}init\\N{LOW LINE}_') }}", "'__init__'"},
        {"{{ x|attr('\\137\\137base\\137\\137') }}", "'__base__'"},
        {"{{ x|attr('%c%cclass%c%c'|format(95,95,95,95)) }}", "character-code format string"},
        {"{{ x|attr('{:c}'.format(95)) }}", "character-code format string"},
        {"{% set u = (()|select|string)[24] %}", "object repr used as a character source"},
        {"{% import 'os' as os %}", "template loading statement 'import'"},
        {"{% from 'a' import b %}", "template loading statement 'from'"},
        {"{%- include 'x' -%}", "template loading statement 'include'"},
        {"{% extends 'x' %}", "template loading statement 'extends'"},
        {"{{ config.items() }}", "gadget global 'config'"},
        {"{{ lipsum|string }}", "gadget global 'lipsum'"},
        {"{{ (lipsum)|string }}", "gadget global 'lipsum'"},
        {"{{ namespace.__init__ }}", "gadget global 'namespace'"},
        {"{{ dict|attr('x') }}", "gadget global 'dict'"},
        {"{{ eval('1') }}", "dangerous name 'eval'"},
        {"{{ '{0.__class__.__mro__}'.format(x) }}", "dunder name in a string '__class__'"},
        {"{% set a = '__cla' %}", "dunder name in a string '__cla'"},
        {"{% set a = '_' %}{% set b = '_cla' %}{% set c = 'ss__' %}", "dunder name in a string"},
        {"{% set a = 'x_' %}{% set b = '_globals_' %}{% set c = '_y' %}",
         "string pieces joined into a dunder name '__globals__'"},
        {"{% set k %}__subclasses__{% endset %}", "dunder name in template text"},
        {"{{ x['__cla' ~ y] }}", "subscript with a computed key"},
        {"{{ x[y|join] }}", "subscript with a computed key 'y|join'"},
        {"{% filter attr('__class__') %}x{% endfilter %}", "attr filter with a dangerous name"},
        {"{{ x.gi_frame.f_back.f_globals }}", "dangerous attribute 'f_globals'"},
        {"{% set d = dict(__x=1) %}", "double-underscore name '__x'"},
        {"{{ x|attr('class') }}", "dangerous name in a string 'class'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        expect(cases[i].text, cases[i].needle);
}

static void test_lexing(void)
{
    bool lex;
    free(constructs("{{ x ", &lex));
    CHECK(lex); /* unterminated tag */
    free(constructs("{{ 'abc }}", &lex));
    CHECK(lex); /* unterminated string */
    free(constructs("{{ x $ y }}", &lex));
    CHECK(lex); /* a character Jinja2 does not know */
    free(constructs("{{ (x] }}", &lex));
    CHECK(lex); /* mismatched brackets */
    free(constructs("{# open comment", &lex));
    CHECK(lex);
    free(constructs("{{ {'a': 1} }}{% if a != b %}{% endif %}text } %} }}", &lex));
    CHECK(!lex);
    /* "}}" inside a string or inside brackets does not end the tag */
    expect("{{ '}}' ~ x.__class__ }}", "dunder attribute '__class__'");
    expect("{{ {'a': x.__dict__} }}", "dunder attribute '__dict__'");
    /* line numbers and snippets */
    template_result r;
    const char *t = "line1\n{% for m in messages %}\n{{ m\n  .__class__ }}\n{% endfor %}";
    template_analyse((const uint8_t *)t, strlen(t), &r);
    CHECK(r.count == 1 && r.items[0].line == 4);
    CHECK(r.count == 1 && strcmp(r.items[0].snippet, "{{ m .__class__ }}") == 0);
    CHECK(r.tags == 3 && !r.lex_error);
    template_result_free(&r);
    /* constructs beyond the recording cap are still counted */
    char big[40 * 24 + 1] = "";
    size_t bl = 0;
    for (int i = 0; i < 40; i++)
        bl += (size_t)snprintf(big + bl, sizeof(big) - bl, "{{ x.__a%02d__ }}", i);
    template_analyse((const uint8_t *)big, strlen(big), &r);
    CHECK(r.count == TEMPLATE_MAX_CONSTRUCTS && r.total == 40);
    template_result_free(&r);
}

static void test_reporting(void)
{
    ms_limits limits;
    ms_limits_default(&limits);
    ms_budget budget;
    memset(&budget, 0, sizeof(budget));
    clock_gettime(CLOCK_MONOTONIC, &budget.start);
    ms_report *rep = ms_report_new("unit");
    ms_scan_ctx ctx = {.report = rep, .limits = &limits, .location = "model.gguf", .budget = &budget};
    const char *bad = "{{ cycler.__init__.__globals__.os.popen('id').read() }}";
    CHECK(template_check(&ctx, "tokenizer.chat_template", (const uint8_t *)bad, strlen(bad),
                         TEMPLATE_DECLARED) == 5);
    CHECK(rep->nfindings == 1);
    if (rep->nfindings == 1) {
        const ms_finding *f = &rep->findings[0];
        CHECK_STR(f->rule_id, "TEMPLATE-INJECTION");
        CHECK_STR(f->type, "Template Injection");
        CHECK(f->severity == MS_SEV_CRITICAL);
        CHECK_STR(f->location, "model.gguf");
        CHECK_STR(json_string_value(json_object_get(f->details, "key")),
                  "tokenizer.chat_template");
        CHECK(json_array_size(json_object_get(f->details, "constructs")) == 5);
        CHECK(strstr(f->description, "__globals__") != NULL);
    }
    /* text files: nothing when the text does not lex as Jinja2; only dunder
     * constructs when it is no chat template */
    const char *python = "x = '{{'\n# comment\ny = getattr(a, 'b') }}";
    CHECK(template_check(&ctx, NULL, (const uint8_t *)python, strlen(python),
                         TEMPLATE_CHAT_TEXT) == 0);
    const char *page = "{% extends 'base.html' %}{{ url_for('x') }}{{ request.__class__ }}";
    CHECK(template_check(&ctx, NULL, (const uint8_t *)page, strlen(page),
                         TEMPLATE_OTHER_TEXT) == 1);
    CHECK(rep->nfindings == 2);
    const char *html = "<!DOCTYPE html>{% for message in get_flashed_messages() %}{% endfor %}";
    CHECK(!template_looks_like_chat_template((const uint8_t *)html, strlen(html)));
    CHECK(template_looks_like_chat_template((const uint8_t *)"{{ messages }}", 14));
    CHECK(!template_looks_like_chat_template((const uint8_t *)"{{ x }}", 7));
    ms_report_free(rep);
}

static void test_helpers(void)
{
    /* Python's json: NaN, Infinity, 1e30 integers, a BOM */
    const char *py = "\xef\xbb\xbf{\"a\": NaN, \"b\": -Infinity, \"c\": "
                     "1000000000000000019884624838656, \"s\": \"NaN\"}";
    json_error_t err;
    json_t *doc = jsonfile_parse((const uint8_t *)py, strlen(py), &err);
    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "s")), "NaN");
    CHECK(json_is_number(json_object_get(doc, "c")));
    json_decref(doc);
    CHECK(jsonfile_parse((const uint8_t *)"[not json", 9, &err) == NULL);

    /* safetensors __metadata__ for later checks */
    const char hdr[] = "{\"__metadata__\":{\"format\":\"pt\",\"author\":\"a@b.c\"}}      ";
    uint8_t file[8 + sizeof(hdr)];
    uint64_t n = sizeof(hdr) - 1;
    for (int i = 0; i < 8; i++)
        file[i] = (uint8_t)(n >> (8 * i));
    memcpy(file + 8, hdr, n);
    CHECK(safetensors_probe(file, 8 + n));
    json_t *m = safetensors_metadata(file, 8 + n);
    CHECK(m && json_object_size(m) == 2);
    CHECK_STR(json_string_value(json_object_get(m, "author")), "a@b.c");
    json_decref(m);
    file[8 + n - 7] = ','; /* the closing brace: no longer JSON */
    CHECK(safetensors_metadata(file, 8 + n) == NULL);
}

void test_template(void)
{
    test_benign();
    test_malicious();
    test_lexing();
    test_reporting();
    test_helpers();
}
