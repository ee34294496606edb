/* test_secrets.c - every secret rule: a positive and a near-miss negative. */
#include <stdlib.h>

#include "unit.h"
#include "../../src/repo/secrets.h"

/* Scans `text` and returns the secret_kind of the single finding, or "" when
 * there is none ("?" when there are several). */
static const char *kind_of(const char *text, const char *location)
{
    static char kind[128];
    ms_report *r = ms_report_new("t");
    CHECK(secrets_scan(r, location, (const uint8_t *)text, strlen(text), "test") == MS_OK);
    if (r->nfindings == 0)
        snprintf(kind, sizeof(kind), "%s", "");
    else if (r->nfindings > 1)
        snprintf(kind, sizeof(kind), "%s", "?");
    else
        snprintf(kind, sizeof(kind), "%s",
                 json_string_value(json_object_get(r->findings[0].details, "secret_kind")));
    ms_report_free(r);
    return kind;
}

typedef struct sample {
    const char *kind, *positive, *near_miss;
} sample;

void test_secrets(void)
{
    CHECK(secrets_init() == NULL);
    static const sample s[] = {
        {"Hugging Face token", "HF_TOKEN=hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789",
         "HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
        {"Hugging Face organization API token", "api_org_AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
         "api_org_short"},
        {"OpenAI API key", "key sk-abcdefghij0123456789T3BlbkFJabcdefghij0123456789",
         "key sk-abcdefghij0123456789XXXXXXXXabcdefghij0123456789"},
        {"OpenAI project key", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEFGH",
         "sk-proj-tooShort"},
        {"Anthropic API key",
         "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
         "abcdefghij",
         "sk-ant-api03-short"},
        {"AWS access key id", "aws_access_key_id = AKIAQWERTYUIOPASDFGH",
         "aws_access_key_id = AKIAqwertyuiopasdfgh"},
        {"AWS secret access key",
         "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKE",
         "aws_secret_access_key = <your secret here>"},
        {"Google API key", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW",
         "AIzaSyShort"},
        {"Google OAuth client secret", "GOCSPX-AbCdEfGhIjKlMnOpQrStUvWx1234",
         "GOCSPX-short"},
        {"Google service account key", "{\"type\": \"service_account\", \"project_id\": \"x\"}",
         "{\"type\": \"user_account\"}"},
        {"Azure storage account key",
         "DefaultEndpointsProtocol=https;AccountName=a;AccountKey="
         "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMn==",
         "AccountKey=<key>"},
        {"Azure SAS token signature",
         "https://a.blob.core.windows.net/c?sv=2020&sig=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEf%3D",
         "https://a.blob.core.windows.net/c?sig=short"},
        {"GitHub token", "ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "ghp_short"},
        {"GitHub fine-grained token",
         "github_pat_11ABCDEFG0123456789abc_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvW",
         "github_pat_short"},
        {"GitLab token", "glpat-AbCdEfGhIj0123456789", "glpat-short"},
        {"Slack token", "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "xoxb-1"},
        {"Slack webhook", "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/AbCdEfGhIjKlMnOpQrStUvWx",
         "https://hooks.slack.com/services/"},
        {"Stripe key", "sk_live_AbCdEfGhIjKlMnOpQrStUvWx01", "sk_live_short"},
        {"Weights & Biases API key", "WANDB_API_KEY=0123456789abcdef0123456789abcdef01234567",
         "WANDB_API_KEY=<your key>"},
        {"private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n",
         "-----BEGIN PUBLIC KEY-----\n"},
        {"password in a URL", "git clone https://alice:Tr0ub4dor3@git.acme.io/m.git",
         "https://alice:${TOKEN}@git.acme.io/m.git"},
        {"private IPv4 address", "server at 10.12.34.56:8080", "version 10.12.345"},
        {"internal host name", "mirror: http://models.ml.internal/x", "internally we use"},
        {"home directory path", "saved to /home/alice/ckpt/model.bin", "see /home/ for details"},
        {"e-mail address", "questions to jane.roe@acme-labs.io", "write to user@example.com"},
    };
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
        const char *k = kind_of(s[i].positive, "README.md");
        if (strcmp(k, s[i].kind) != 0)
            fprintf(stderr, "positive for %s gave '%s'\n", s[i].kind, k);
        CHECK(strcmp(k, s[i].kind) == 0);
        k = kind_of(s[i].near_miss, "README.md");
        if (strcmp(k, "") != 0)
            fprintf(stderr, "near miss for %s gave '%s'\n", s[i].kind, k);
        CHECK(strcmp(k, "") == 0);
    }

    /* never the whole secret in the report */
    const char *tok = "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789";
    ms_report *r = ms_report_new("t");
    secrets_scan(r, "config.json", (const uint8_t *)tok, strlen(tok), "test");
    CHECK(r->nfindings == 1);
    if (r->nfindings == 1) {
        char *dump = json_dumps(r->findings[0].details, 0);
        CHECK(strstr(r->findings[0].description, tok) == NULL);
        CHECK(strstr(dump, tok) == NULL);
        CHECK(strstr(dump, "QwErTyUiOp") == NULL);
        CHECK_STR(r->findings[0].rule_id, "SECRET-CREDENTIAL");
        free(dump);
    }
    ms_report_free(r);

    /* matches located by the ends pass and a SOM window before each end:
     * far apart, counted once each, excerpts and offsets exact; a window
     * edge cannot invent a match ("Xhf_..." is not a token); and more
     * ends than the windows take fall back to a whole SOM scan */
    {
        size_t n = 3u << 20;
        uint8_t *buf = malloc(n);
        memset(buf, ' ', n);
        const char *mail = "jane.roe@acme-labs.io";
        const char *glued = "Xhf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789";
        memcpy(buf + 10, mail, strlen(mail));
        memcpy(buf + (1u << 20), mail, strlen(mail));
        /* a real token 100 bytes after a glued one: the window of the real
         * one starts inside the glued one */
        size_t g = (2u << 20) - 4096 + 50;
        memcpy(buf + g, glued, strlen(glued));
        memcpy(buf + g + 4096 - 4, "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456780", 39);
        r = ms_report_new("t");
        CHECK(secrets_scan(r, "blob.bin", buf, n, "test") == MS_OK);
        size_t emails = 0, tokens = 0;
        for (size_t i = 0; i < r->nfindings; i++) {
            json_t *d = r->findings[i].details;
            const char *kind = json_string_value(json_object_get(d, "secret_kind"));
            json_int_t occ = json_integer_value(json_object_get(d, "occurrences"));
            json_int_t first = json_integer_value(json_object_get(d, "first_offset"));
            if (kind && strcmp(kind, "e-mail address") == 0) {
                emails++;
                CHECK(occ == 2 && first == 10);
            } else if (kind && strcmp(kind, "Hugging Face token") == 0) {
                tokens++;
                CHECK(occ == 1 && first == (json_int_t)(g + 4096 - 4));
            }
        }
        CHECK(emails == 1 && tokens == 1);
        ms_report_free(r);
        /* 70,000 private addresses: past the ends the windows take */
        const char *ip = "10.1.2.3 ";
        for (size_t i = 0; i < 70000; i++)
            memcpy(buf + 40 + i * 9, ip, 9);
        r = ms_report_new("t");
        CHECK(secrets_scan(r, "blob.bin", buf, n, "test") == MS_OK);
        bool found = false;
        for (size_t i = 0; i < r->nfindings; i++) {
            json_t *d = r->findings[i].details;
            const char *kind = json_string_value(json_object_get(d, "secret_kind"));
            if (kind && strcmp(kind, "private IPv4 address") == 0) {
                found = true;
                CHECK(json_integer_value(json_object_get(d, "occurrences")) == 70000);
            }
        }
        CHECK(found);
        ms_report_free(r);
        free(buf);
    }

    /* a tokenizer vocabulary: personal data is not reported, credentials are */
    const char *vocab = "{\"model\": {\"vocab\": {\"jane.roe@acme-labs.io\": 1, "
                        "\"/home/alice/\": 2, \"hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789\": 3}}}";
    CHECK_STR(kind_of(vocab, "tokenizer.json"), "Hugging Face token");

    /* a metadata value: its key in details.key; a vocabulary value keeps
     * credentials only, whatever its location is called */
    const char *tokens = "jane.roe@acme-labs.io\n/home/alice/\n" "hf_QwErTyUiOpAsDfGhJkLzXcVbNm0123456789\n";
    r = ms_report_new("t");
    CHECK(secrets_scan_metadata(r, "model.gguf", "tokenizer.ggml.tokens", (const uint8_t *)tokens,
                                strlen(tokens), "the GGUF metadata value 'tokenizer.ggml.tokens'",
                                true, NULL) == MS_OK);
    CHECK(r->nfindings == 1);
    if (r->nfindings == 1) {
        CHECK_STR(r->findings[0].rule_id, "SECRET-CREDENTIAL");
        CHECK_STR(json_string_value(json_object_get(r->findings[0].details, "key")),
                  "tokenizer.ggml.tokens");
        CHECK(strstr(r->findings[0].description, "'tokenizer.ggml.tokens'") != NULL);
    }
    ms_report_free(r);
    r = ms_report_new("t");
    secrets_scratch *scratch = secrets_scratch_new();
    for (int i = 0; i < 2; i++) /* a kept scratch serves scan after scan */
        CHECK(secrets_scan_metadata(r, "model.gguf", "general.author", (const uint8_t *)tokens,
                                    strlen(tokens), "the GGUF metadata value 'general.author'",
                                    false, scratch) == MS_OK);
    secrets_scratch_free(scratch);
    CHECK(r->nfindings == 6); /* e-mail, home directory, token; twice */
    ms_report_free(r);
}
