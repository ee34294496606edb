/*
 * test_osv.c - the OSV loader and matcher: CVSS scores, range evaluation
 * (intervals, last_affected, limit, versions lists, GIT ranges ignored,
 * pre-release bounds, local builds), withdrawn records, the built-in set,
 * the committed advisory zip (MS_DEPS_FIXTURES) and, when it is there, the
 * 1,750 real PyPA records in ../shared/data/osv/PyPI (MS_OSV_DATA).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "unit.h"
#include "../../src/repo/osv.h"

static bool near(double a, double b)
{
    return a > b - 0.001 && a < b + 0.001;
}

static void test_cvss(void)
{
    double s = -1;
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s) && near(s, 9.8));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", &s) && near(s, 10.0));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", &s) && near(s, 7.8));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:H", &s) && near(s, 7.5));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N", &s) && near(s, 4.3));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", &s) && near(s, 6.1));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", &s) && near(s, 9.6));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H", &s) && near(s, 5.5));
    CHECK(osv_cvss3_score("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:N/I:N/A:L", &s) && near(s, 3.4));
    CHECK(osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", &s) && near(s, 0.0));
    /* near misses: incomplete, repeated, unknown values, another version */
    CHECK(!osv_cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", &s));
    CHECK(!osv_cvss3_score("CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s));
    CHECK(!osv_cvss3_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s));
    CHECK(!osv_cvss3_score("AV:N/AC:L/Au:N/C:P/I:P/A:P", &s));
    CHECK(!osv_cvss3_score(NULL, &s));
    /* v4: mapped onto the v3.1 formula, never below what the impacts say */
    CHECK(osv_cvss4_approx_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                                 &s) &&
          osv_severity_from_score(s) == MS_SEV_CRITICAL);
    CHECK(osv_cvss4_approx_score("CVSS:4.0/AV:L/AC:H/AT:N/PR:L/UI:N/VC:N/VI:L/VA:N/SC:N/SI:N/SA:N/"
                                 "E:X/CR:X",
                                 &s) &&
          osv_severity_from_score(s) == MS_SEV_LOW);
    CHECK(!osv_cvss4_approx_score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H", &s));
    CHECK(!osv_cvss4_approx_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", &s));
    CHECK(osv_severity_from_score(9.0) == MS_SEV_CRITICAL);
    CHECK(osv_severity_from_score(8.9) == MS_SEV_HIGH);
    CHECK(osv_severity_from_score(6.9) == MS_SEV_MEDIUM);
    CHECK(osv_severity_from_score(3.9) == MS_SEV_LOW);
    CHECK(osv_severity_from_score(0.0) == MS_SEV_INFORMATIONAL);
}

static const osv_record *find(const osv_db *db, const char *id)
{
    for (size_t i = 0; i < db->n; i++)
        if (strcmp(db->records[i].id, id) == 0)
            return &db->records[i];
    return NULL;
}

/* Whether record `id` affects `pkg` at `version`; fills *hit when given. */
static int affects(const osv_db *db, const char *id, const char *pkg, const char *version,
                   bool exclusive, osv_hit *hit)
{
    const osv_record *r = find(db, id);
    pep440_version v;
    if (!r || !pep440_parse_str(version, &v))
        return -1;
    return osv_record_affects(r, pkg, &v, exclusive, hit);
}

static void add(osv_db *db, const char *json)
{
    CHECK(osv_db_add_json_text(db, json, strlen(json), "inline", NULL) == MS_OK);
}

static void test_records(void)
{
    osv_db *db = osv_db_new();
    osv_hit hit;
    /* two intervals, a GIT range that must be ignored, a PEP 503 name */
    add(db, "{\"id\":\"T-1\",\"aliases\":[\"CVE-1\"],\"affected\":[{\"package\":{\"ecosystem\":"
            "\"PyPI\",\"name\":\"Tensor_Flow\"},\"ranges\":[{\"type\":\"GIT\",\"repo\":\"x\","
            "\"events\":[{\"introduced\":\"0\"},{\"fixed\":\"abc123\"}]},{\"type\":\"ECOSYSTEM\","
            "\"events\":[{\"introduced\":\"2.4.0\"},{\"fixed\":\"2.4.3\"},{\"introduced\":"
            "\"2.3.0\"},{\"fixed\":\"2.3.4\"}]}]}],\"severity\":[{\"type\":\"CVSS_V3\",\"score\":"
            "\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}]}");
    CHECK(affects(db, "T-1", "tensor-flow", "2.3.0", false, &hit) == 1);
    CHECK_STR(hit.affected, ">=2.3.0, <2.3.4");
    CHECK_STR(hit.fixed, "2.3.4");
    CHECK(affects(db, "T-1", "tensor-flow", "2.3.4", false, NULL) == 0);
    CHECK(affects(db, "T-1", "tensor-flow", "2.4.2", false, &hit) == 1);
    CHECK_STR(hit.fixed, "2.4.3");
    CHECK(affects(db, "T-1", "tensor-flow", "2.2.9", false, NULL) == 0);
    CHECK(affects(db, "T-1", "tensor-flow", "2.5.0", false, NULL) == 0);
    CHECK(affects(db, "T-1", "tensor-flow", "2.4.0rc1", false, NULL) == 0); /* before 2.4.0 */
    CHECK(affects(db, "T-1", "tensorflow", "2.3.0", false, NULL) == 0);    /* another package */
    CHECK(find(db, "T-1")->severity == MS_SEV_CRITICAL && near(find(db, "T-1")->score, 9.8));

    /* last_affected is inclusive; a ">v" pin at v is past it */
    add(db, "{\"id\":\"T-2\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
            "\"transformers\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":"
            "\"0\"},{\"last_affected\":\"5.2.0\"}]}]}],\"database_specific\":{\"severity\":"
            "\"MODERATE\"}}");
    CHECK(affects(db, "T-2", "transformers", "5.2.0", false, &hit) == 1);
    CHECK_STR(hit.affected, "<=5.2.0");
    CHECK_STR(hit.fixed, "");
    CHECK(affects(db, "T-2", "transformers", "5.2.0.post1", false, NULL) == 0);
    CHECK(affects(db, "T-2", "transformers", "5.2.0", true, NULL) == 0);
    CHECK(affects(db, "T-2", "transformers", "5.1.0", true, NULL) == 1);
    CHECK(find(db, "T-2")->severity == MS_SEV_MEDIUM); /* GitHub's "MODERATE" */

    /* a pre-release fix (keras PYSEC-2026-369): 2.13.1rc0 is the first fixed */
    add(db, "{\"id\":\"T-3\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
            "\"keras\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
            "{\"fixed\":\"2.13.1rc0\"}]}]}]}");
    CHECK(affects(db, "T-3", "keras", "2.13.0", false, NULL) == 1);
    CHECK(affects(db, "T-3", "keras", "2.13.1.dev0", false, NULL) == 1);
    CHECK(affects(db, "T-3", "keras", "2.13.1rc0", false, NULL) == 0);
    CHECK(affects(db, "T-3", "keras", "2.13.1", false, NULL) == 0);
    CHECK(!find(db, "T-3")->has_severity);

    /* limit: versions at or above it are not affected */
    add(db, "{\"id\":\"T-4\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"p\"},"
            "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.0\"},"
            "{\"limit\":\"2.0\"}]}]}]}");
    CHECK(affects(db, "T-4", "p", "1.5", false, &hit) == 1);
    CHECK_STR(hit.affected, ">=1.0 (no fixed version named)");
    CHECK(affects(db, "T-4", "p", "2.0", false, NULL) == 0);

    /* explicit versions only; neither ranges nor versions match nothing */
    add(db, "{\"id\":\"T-5\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
            "\"pytorch-lightning\"},\"versions\":[\"2.6.2\",\"2.6.3\"]}]}");
    CHECK(affects(db, "T-5", "pytorch-lightning", "2.6.2", false, &hit) == 1);
    CHECK_STR(hit.affected, "listed version 2.6.2");
    CHECK(affects(db, "T-5", "pytorch-lightning", "2.6.2.0", false, NULL) == 1);
    CHECK(affects(db, "T-5", "pytorch-lightning", "2.6.4", false, NULL) == 0);
    CHECK(affects(db, "T-5", "pytorch-lightning", "2.6.2", true, NULL) == 0);
    add(db, "{\"id\":\"T-6\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
            "\"keras\"}}]}");
    CHECK(affects(db, "T-6", "keras", "3.0.0", false, NULL) == 0);

    /* event versions that are not PEP 440 ("2.6.0-NA"): read approximately;
     * a local build is its release */
    add(db, "{\"id\":\"T-7\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":"
            "\"torch\"},\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
            "{\"last_affected\":\"2.6.0-NA\"}]}]}],\"severity\":[{\"type\":\"CVSS_V4\","
            "\"score\":\"CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N\"}]}");
    CHECK(affects(db, "T-7", "torch", "2.6.0+cu124", false, &hit) == 1);
    CHECK(hit.approximate);
    CHECK_STR(hit.affected, "<=2.6.0-NA");
    CHECK(affects(db, "T-7", "torch", "2.6.1", false, NULL) == 0);
    CHECK(db->stats.approximate == 1);
    CHECK(find(db, "T-7")->has_severity && find(db, "T-7")->severity == MS_SEV_MEDIUM);

    /* dropped: withdrawn, other ecosystems; counted: broken documents */
    unsigned long before = db->stats.records;
    add(db, "{\"id\":\"T-8\",\"withdrawn\":\"2026-06-09T16:03:00Z\",\"affected\":[{\"package\":"
            "{\"ecosystem\":\"PyPI\",\"name\":\"joblib\"},\"versions\":[\"1.4.2\"]}]}");
    add(db, "{\"id\":\"T-9\",\"affected\":[{\"package\":{\"ecosystem\":\"npm\",\"name\":"
            "\"joblib\"},\"versions\":[\"1.4.2\"]}]}");
    CHECK(db->stats.records == before && !find(db, "T-8") && !find(db, "T-9"));
    CHECK(db->stats.withdrawn == 1 && db->stats.other == 1);
    const char *bad[] = {
        "{\"id\":\"T-10\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"banana\"}]}]}]}",
        "{\"affected\":[]}",
        "{\"id\":\"T-11\",\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"x\"},"
        "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1\",\"fixed\":\"2\"}]}"
        "]}]}",
        "[1,2",
    };
    for (size_t i = 0; i < 4; i++)
        CHECK(osv_db_add_json_text(db, bad[i], strlen(bad[i]), "bad", NULL) == MS_MALFORMED);
    CHECK(db->stats.unreadable == 4 && db->stats.error_names[0] != NULL);

    /* the first version no record affects */
    char safe[64];
    pep440_version v;
    CHECK(pep440_parse_str("2.3.1", &v));
    CHECK(osv_db_first_safe_version(db, "tensor-flow", &v, safe, sizeof(safe)));
    CHECK_STR(safe, "2.3.4");
    CHECK(pep440_parse_str("5.0", &v));
    CHECK(!osv_db_first_safe_version(db, "transformers", &v, safe, sizeof(safe)));
    osv_db_free(db);
}

static void test_builtin(void)
{
    size_t n;
    const osv_builtin_advisory *t = osv_builtin_table(&n);
    CHECK(n >= 20 && n <= 40);
    osv_db *db = osv_db_new();
    CHECK(osv_db_add_builtin(db) == MS_OK);
    CHECK(db->n == n && db->stats.unreadable == 0);
    for (size_t i = 0; i < db->n; i++) {
        CHECK(db->records[i].builtin && db->records[i].has_severity);
        for (size_t j = i + 1; j < db->n; j++)
            CHECK(strcmp(db->records[i].id, db->records[j].id) != 0);
    }
    (void)t;
    CHECK(affects(db, "PYSEC-2025-122", "keras", "3.7.0", false, NULL) == 1);
    CHECK(affects(db, "PYSEC-2025-122", "keras", "2.15.0", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2025-122", "keras", "3.8.0", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2026-392", "llama-cpp-python", "0.2.71", false, NULL) == 1);
    CHECK(affects(db, "PYSEC-2026-392", "llama-cpp-python", "0.2.72", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2026-392", "llama-cpp-python", "0.2.29", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2025-41", "torch", "2.5.1", false, NULL) == 1);
    CHECK(affects(db, "PYSEC-2025-41", "torch", "2.6.0", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2026-369", "keras", "2.13.0", false, NULL) == 1);
    CHECK(affects(db, "PYSEC-2026-369", "keras", "2.13.1rc0", false, NULL) == 0);
    CHECK(affects(db, "PYSEC-2026-508", "pytorch-lightning", "2.6.3", false, NULL) == 1);
    CHECK(find(db, "PYSEC-2026-392")->severity == MS_SEV_CRITICAL);

    /* a loaded record sharing an alias replaces the built-in one */
    const char *ghsa =
        "{\"id\":\"GHSA-48g7-3x6r-xfhp\",\"aliases\":[\"CVE-2025-1550\"],\"affected\":[{"
        "\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"keras\"},\"ranges\":[{\"type\":"
        "\"ECOSYSTEM\",\"events\":[{\"introduced\":\"3.0.0\"},{\"fixed\":\"3.8.0\"}]}]}],"
        "\"database_specific\":{\"severity\":\"CRITICAL\"}}";
    CHECK(osv_db_add_json_text(db, ghsa, strlen(ghsa), "ghsa", NULL) == MS_OK);
    osv_db *db2 = osv_db_new();
    CHECK(osv_db_add_json_text(db2, ghsa, strlen(ghsa), "ghsa", NULL) == MS_OK);
    CHECK(osv_db_add_builtin(db2) == MS_OK);
    CHECK(find(db2, "PYSEC-2025-122")->superseded);
    CHECK(affects(db2, "PYSEC-2025-122", "keras", "3.7.0", false, NULL) == 0);
    CHECK(affects(db2, "GHSA-48g7-3x6r-xfhp", "keras", "3.7.0", false, NULL) == 1);
    CHECK(!find(db2, "PYSEC-2025-41")->superseded);
    osv_db_free(db2);
    osv_db_free(db);
}

/* Ids of the records affecting pkg@version, space-separated, sorted. */
static char *matching_ids(const osv_db *db, const char *pkg, const char *version)
{
    static char out[8192];
    pep440_version v;
    out[0] = '\0';
    if (!pep440_parse_str(version, &v))
        return out;
    const char *ids[512];
    size_t n = 0;
    for (size_t i = 0; i < db->n && n < 512; i++)
        if (osv_record_affects(&db->records[i], pkg, &v, false, NULL))
            ids[n++] = db->records[i].id;
    for (size_t i = 1; i < n; i++) /* insertion sort */
        for (size_t j = i; j > 0 && strcmp(ids[j - 1], ids[j]) > 0; j--) {
            const char *t = ids[j];
            ids[j] = ids[j - 1];
            ids[j - 1] = t;
        }
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%s", i ? " " : "", ids[i]);
    return out;
}

static void test_fixture_zip(void)
{
    const char *dir = getenv("MS_DEPS_FIXTURES");
    if (!dir) {
        fprintf(stderr, "test_osv: MS_DEPS_FIXTURES not set; advisory zip tests skipped\n");
        return;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/advisories/osv-subset.zip", dir);
    osv_db *db = osv_db_new();
    CHECK(osv_db_load_path(db, path, NULL) == MS_OK);
    CHECK(db->stats.files == 12 && db->stats.withdrawn == 1 && db->stats.unreadable == 0);
    CHECK(db->n == 11);
    CHECK_STR(matching_ids(db, "keras", "3.7.0"), "PYSEC-2025-122");
    CHECK_STR(matching_ids(db, "keras", "2.13.0"), "PYSEC-2026-369");
    CHECK_STR(matching_ids(db, "llama-cpp-python", "0.2.71"), "PYSEC-2026-392");
    CHECK_STR(matching_ids(db, "llama-cpp-python", "0.2.72"), "");
    CHECK_STR(matching_ids(db, "joblib", "1.4.2"), "");
    CHECK_STR(matching_ids(db, "torch", "2.6.0+cu124"), "PYSEC-2025-189 PYSEC-2025-190");
    CHECK_STR(matching_ids(db, "transformers", "4.30.0"),
              "PYSEC-2023-300 PYSEC-2023-301 PYSEC-2026-2290");
    /* a filter keeps only the packages asked for */
    const char *want[] = {"keras"};
    osv_filter f = {want, 1};
    osv_db *small = osv_db_new();
    CHECK(osv_db_load_path(small, path, &f) == MS_OK);
    CHECK(small->n == 3 && small->stats.other == 8);
    osv_db_free(small);
    /* not an archive, not there */
    snprintf(path, sizeof(path), "%s/advisories/not-an-archive.zip", dir);
    CHECK(osv_db_load_path(db, path, NULL) == MS_IO);
    snprintf(path, sizeof(path), "%s/advisories/does-not-exist", dir);
    CHECK(osv_db_load_path(db, path, NULL) == MS_IO);
    osv_db_free(db);
}

static void test_real_data(void)
{
    const char *dir = getenv("MS_OSV_DATA");
    struct stat st;
    if (!dir || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "test_osv: SKIPPED the real-advisory tests: %s is not a folder "
                        "(set MS_OSV_DATA to ../shared/data/osv/PyPI)\n",
                dir ? dir : "MS_OSV_DATA");
        return;
    }
    osv_db *db = osv_db_new();
    CHECK(osv_db_load_path(db, dir, NULL) == MS_OK);
    /* 1,750 records, 5 of them withdrawn, all readable; the ten events
     * written "2.6.0-NA" / "2.6.0-cu124" are read approximately */
    CHECK(db->stats.files == 1750 && db->stats.withdrawn == 5 && db->stats.unreadable == 0);
    CHECK(db->n == 1745 && db->stats.approximate == 10);
    CHECK(!find(db, "PYSEC-2024-277") && !find(db, "PYSEC-2025-74")); /* withdrawn */
    /* transformers 4.30.0: every advisory of that era, compared with an
     * independent evaluation of the same records with pypa packaging */
    CHECK_STR(matching_ids(db, "transformers", "4.30.0"),
              "PYSEC-2023-300 PYSEC-2023-301 PYSEC-2024-227 PYSEC-2024-228 PYSEC-2024-229 "
              "PYSEC-2025-211 PYSEC-2025-212 PYSEC-2025-213 PYSEC-2025-214 PYSEC-2025-215 "
              "PYSEC-2025-216 PYSEC-2025-217 PYSEC-2025-218 PYSEC-2025-40 PYSEC-2026-1977 "
              "PYSEC-2026-1978 PYSEC-2026-1980 PYSEC-2026-1981 PYSEC-2026-1982 PYSEC-2026-1983 "
              "PYSEC-2026-1984 PYSEC-2026-1985 PYSEC-2026-1986 PYSEC-2026-1987 PYSEC-2026-1988 "
              "PYSEC-2026-2288 PYSEC-2026-2289 PYSEC-2026-2290");
    CHECK_STR(matching_ids(db, "transformers", "5.3.0"), "");
    CHECK_STR(matching_ids(db, "keras", "3.7.0"),
              "PYSEC-2025-121 PYSEC-2025-122 PYSEC-2025-123 PYSEC-2026-1486 PYSEC-2026-1487 "
              "PYSEC-2026-2324 PYSEC-2026-2546 PYSEC-2026-2547 PYSEC-2026-73");
    CHECK_STR(matching_ids(db, "keras", "2.13.0"),
              "PYSEC-2025-121 PYSEC-2026-1486 PYSEC-2026-1487 PYSEC-2026-2324 PYSEC-2026-2547 "
              "PYSEC-2026-369");
    CHECK_STR(matching_ids(db, "keras", "2.13.1rc0"),
              "PYSEC-2025-121 PYSEC-2026-1486 PYSEC-2026-1487 PYSEC-2026-2324 PYSEC-2026-2547");
    CHECK_STR(matching_ids(db, "llama-cpp-python", "0.2.71"), "PYSEC-2026-392");
    CHECK_STR(matching_ids(db, "llama-cpp-python", "0.2.72"), "");
    CHECK_STR(matching_ids(db, "joblib", "1.4.2"), "");
    CHECK_STR(matching_ids(db, "pytorch-lightning", "2.6.2"), "PYSEC-2026-508");
    CHECK_STR(matching_ids(db, "jinja2", "3.1.4"), "PYSEC-2026-1471 PYSEC-2026-1472 PYSEC-2026-1475");
    const osv_record *r = find(db, "PYSEC-2025-122");
    CHECK(r && r->severity == MS_SEV_CRITICAL && near(r->score, 9.8));
    r = find(db, "PYSEC-2025-190"); /* CVSS v4 only */
    CHECK(r && r->has_severity && r->severity == MS_SEV_LOW);
    /* every built-in row agrees with the real record it cites where that
     * record has ranges: same verdict at each fixed version and just below */
    osv_db *bi = osv_db_new();
    CHECK(osv_db_add_builtin(bi) == MS_OK);
    for (size_t i = 0; i < bi->n; i++) {
        const osv_record *b = &bi->records[i];
        const osv_record *real = find(db, b->id);
        CHECK(real != NULL);
        if (real && real->has_severity && real->severity != b->severity)
            fprintf(stderr, "test_osv: built-in %s is %s, the record says %s\n", b->id,
                    ms_severity_name(b->severity), ms_severity_name(real->severity));
        CHECK(!real || !real->has_severity || real->severity == b->severity);
        if (!real || real->affected[0].nranges == 0)
            continue; /* PYSEC-2025-75/76 carry no ranges */
        const osv_affected *a = &b->affected[0];
        for (size_t k = 0; k < a->nranges; k++)
            for (size_t e = 0; e < a->ranges[k].nevents; e++) {
                const osv_event *ev = &a->ranges[k].events[e];
                if (ev->zero)
                    continue;
                bool x = osv_record_affects(b, a->package, &ev->version, false, NULL);
                bool y = osv_record_affects(real, a->package, &ev->version, false, NULL);
                if (x != y)
                    fprintf(stderr, "test_osv: built-in %s disagrees at %s\n", b->id, ev->text);
                CHECK(x == y);
            }
    }
    osv_db_free(bi);
    osv_db_free(db);
}

void test_osv(void)
{
    test_cvss();
    test_records();
    test_builtin();
    test_fixture_zip();
    test_real_data();
}
