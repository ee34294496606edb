#!/usr/bin/env python3
"""The SARIF and CycloneDX writers (src/report/sarif.c, cyclonedx.c) on every
golden case, the dependency fixtures and a few folders made here (a model
card, odd file names, one file on its own), each log and BOM validated
against the official schemas and checked for content:

  SARIF 2.1.0   the SARIF SDK's sarif-2.1.0.json, then Microsoft's
                Sarif.Multitool `validate --rule-kind Gh;Sarif`: no error,
                which includes GitHub's ingestion rules (GH1001...)
  CycloneDX 1.6 bom-1.6 (+ spdx, jsf) from @cyclonedx/cyclonedx-library

The schemas come from npm, pinned in tests/schemas/package-lock.json and
installed by tests/schemas/fetch.sh (scripts/install-deps.sh runs it). Without
them this test FAILS, it does not skip.

usage: test_sarif_cyclonedx.py REPORT_EXPORT TESTS_DIR SCANNER
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import uuid

from checklib import expect as check, finish  # noqa: E402

RULES_SEEN = None


def die(msg):
    print(f"FAIL {msg}")
    print("0 passed, 1 failed")
    sys.exit(1)


# ---- schemas and validators ----

def load_validators(tests_dir):
    modules = os.path.join(tests_dir, "schemas", "node_modules")
    sarif_schema = os.path.join(modules, "@microsoft", "sarif-multitool-linux", "sarif-2.1.0.json")
    multitool = os.path.join(modules, "@microsoft", "sarif-multitool-linux", "Sarif.Multitool")
    cdx_dir = os.path.join(modules, "@cyclonedx", "cyclonedx-library", "res", "schema")
    needed = [sarif_schema, multitool, os.path.join(cdx_dir, "bom-1.6.SNAPSHOT.schema.json")]
    missing = [p for p in needed if not os.path.exists(p)]
    if missing:
        die("the SARIF/CycloneDX schemas are not installed (missing "
            + ", ".join(os.path.relpath(p, tests_dir) for p in missing)
            + "): run tests/schemas/fetch.sh (scripts/install-deps.sh runs it), "
              "which needs npm and the npm registry")
    try:
        import jsonschema
    except ImportError:
        die("python jsonschema is not installed: apt-get install python3-jsonschema "
            "(scripts/install-deps.sh does)")

    def validator(schema, extra):
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        fmt = getattr(cls, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
        try:
            from referencing import Registry, Resource
            from referencing.jsonschema import DRAFT7
            reg = Registry().with_resources(
                [(uri, Resource.from_contents(doc, default_specification=DRAFT7))
                 for uri, doc in extra.items()])
            return cls(schema, registry=reg, format_checker=fmt)
        except ImportError:  # jsonschema < 4.18 (Debian 12's 4.10)
            resolver = jsonschema.RefResolver.from_schema(schema, store=extra)
            return cls(schema, resolver=resolver, format_checker=fmt)

    with open(sarif_schema) as f:
        sarif = validator(json.load(f), {})
    docs = {}
    for name in ("bom-1.6", "spdx", "jsf-0.82"):
        with open(os.path.join(cdx_dir, f"{name}.SNAPSHOT.schema.json")) as f:
            doc = json.load(f)
        # the library renamed the files it references; both names resolve
        docs[doc["$id"]] = doc
        docs[f"http://cyclonedx.org/schema/{name}.SNAPSHOT.schema.json"] = doc
    cdx = validator(docs["http://cyclonedx.org/schema/bom-1.6.schema.json"], docs)
    return sarif, cdx, multitool


def schema_errors(validator, doc):
    return [f"{'/'.join(str(p) for p in e.absolute_path)}: {e.message[:300]}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))]


# ---- running the writers ----

def export(driver, mode, paths, *flags):
    proc = subprocess.run([driver, mode, *flags, *paths], capture_output=True)
    if proc.returncode != 0:
        die(f"report-export {mode} {' '.join(flags)} {' '.join(paths)}: exit "
            f"{proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return json.loads(proc.stdout)


def findings_of(report):
    return report["vulnerabilities"] + report["warnings"] + report.get("suppressed", [])


LEVEL = {"Critical": "error", "High": "error", "Medium": "warning", "Low": "note",
         "Informational": "note"}
SECURITY_SEVERITY = {"Critical": 9.5, "High": 8.0, "Medium": 5.5, "Low": 3.0,
                     "Informational": 0.0}
CDX_SEVERITY = {"Critical": "critical", "High": "high", "Medium": "medium", "Low": "low",
                "Informational": "info"}


def outer_file(location, paths):
    """The scanned file a location points into (longest matching prefix)."""
    for i in range(len(location), 0, -1):
        if (i == len(location) or location[i] in "!:@") and location[:i] in paths:
            return location[:i]
    return None


# ---- SARIF ----

def check_rules(case, rules):
    """The rule descriptors: GitHub's limits, help, tags, severities."""
    for r in rules:
        props = r["properties"]
        check(len(r["shortDescription"]["text"]) <= 1024 and
              len(r["fullDescription"]["text"]) <= 1024 and len(r["name"]) <= 255,
              f"{case}: {r['id']} texts within GitHub's limits")
        check(r["help"]["text"] and r["help"]["markdown"], f"{case}: {r['id']} help")
        check(props["tags"][0] == "security" and len(props["tags"]) <= 10,
              f"{case}: {r['id']} tags")
        check(props["precision"] in ("very-high", "high", "medium", "low"),
              f"{case}: {r['id']} precision")
        sev = float(props["security-severity"])
        level = r["defaultConfiguration"]["level"]
        check({9.5: "error", 8.0: "error", 5.5: "warning", 3.0: "note", 0.0: "note"}.get(sev)
              == level, f"{case}: {r['id']} security-severity {sev} agrees with level {level}")


def check_sarif(case, log, report, model_dir):
    check(log.get("version") == "2.1.0", f"{case}: SARIF version")
    check(log.get("$schema", "").startswith("https://"), f"{case}: SARIF $schema")
    check(len(log["runs"]) == 1, f"{case}: one run")
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    check(driver["name"] == "model-scanner" and driver["version"] == report["scanner"]["version"]
          and re.fullmatch(r"\d+\.\d+\.\d+", driver["semanticVersion"]), f"{case}: driver")
    rules = driver["rules"]
    ids = [r["id"] for r in rules]
    check(len(ids) == len(set(ids)) and len(ids) >= 50, f"{case}: every rule once")
    global RULES_SEEN
    if RULES_SEEN is None:
        check_rules(case, rules)
    else:  # the same table in every run: checked in full once
        check(rules == RULES_SEEN, f"{case}: the same rules as every other run")
    RULES_SEEN = rules

    files = {f["path"]: f for f in report["files"]}
    arts = run.get("artifacts", [])
    check(len(arts) == len(files), f"{case}: an artifact per file")
    for a in arts:
        path = urllib.parse.unquote(a["location"]["uri"])
        f = files.get(path)
        if not check(f is not None, f"{case}: artifact {path} is a scanned file"):
            continue
        check(a["location"]["uriBaseId"] == "MODELROOT", f"{case}: artifact base id")
        check(a["length"] == f["size"], f"{case}: artifact {path} length")
        if f["sha256"]:
            check(a["hashes"]["sha-256"] == f["sha256"], f"{case}: artifact {path} sha-256")
            real = os.path.join(model_dir, path)
            if os.path.isfile(real) and not os.path.islink(real):
                with open(real, "rb") as fh:
                    check(hashlib.sha256(fh.read()).hexdigest() == f["sha256"],
                          f"{case}: {path} hash is the file's")
        else:
            check("hashes" not in a, f"{case}: no hash without hashing")
    check(run["invocations"][0]["executionSuccessful"] is True, f"{case}: invocation")
    check(run["automationDetails"]["id"].startswith("model-scanner/"), f"{case}: category")

    findings = findings_of(report)
    results = run["results"]
    check(len(results) == len(findings), f"{case}: a result per finding "
          f"({len(results)} vs {len(findings)})")
    want = sorted((f["rule_id"], f["location"], f["severity"]) for f in findings)
    got = sorted((r["ruleId"], r["properties"]["location"], r["properties"]["severity"])
                 for r in results)
    check(want == got, f"{case}: results are the findings (rule, location, severity)")
    fingerprints = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    check(len(fingerprints) == len(set(fingerprints)), f"{case}: fingerprints are distinct")
    for r in results:
        loc = r["properties"]["location"]
        check(rules[r["ruleIndex"]]["id"] == r["ruleId"], f"{case}: ruleIndex of {r['ruleId']}")
        sev = r["properties"]["severity"]
        check(r["level"] == LEVEL[sev], f"{case}: level of a {sev} finding is {r['level']}")
        check(float(r["properties"]["security-severity"]) == SECURITY_SEVERITY[sev],
              f"{case}: result security-severity")
        check(r["message"]["text"], f"{case}: message")
        check(1 <= len(r["locations"]) <= 10, f"{case}: GitHub needs 1-10 locations")
        phys = r["locations"][0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        check(r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == loc,
              f"{case}: logical location {loc}")
        if loc == "Model Repository":
            check(uri == ("README.md" if "README.md" in files else "."),
                  f"{case}: repository-wide finding on {uri}")
            continue
        outer = outer_file(loc, files)
        if outer is None:  # not a scanned file (a symbolic link): up to a member path
            outer = re.sub(r":[1-9][0-9]*$", "", loc.split("!")[0]) if "!" not in loc else \
                loc.split("!")[0]
        check(urllib.parse.unquote(uri) == outer, f"{case}: {loc} is shown on {uri}")
        rest = loc[len(outer):] if outer else ""
        m = re.fullmatch(r":(\d+)", rest)
        if m:
            check(phys.get("region", {}).get("startLine") == int(m.group(1)),
                  f"{case}: {loc} has its line")
        elif rest:
            check("region" not in phys, f"{case}: {loc} (inside the file) has no region")
        if r.get("suppressions"):
            s = r["suppressions"][0]
            check(s["kind"] == "external" and s["status"] == "accepted", f"{case}: suppression")
    return run


# ---- CycloneDX ----

def check_cyclonedx(case, bom, report, facts):
    check(bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
          and bom["version"] == 1, f"{case}: BOM header")
    # serialNumber: UUID v5 of scanner version, model path, scan time, files
    name = "\0".join([report["scanner"]["version"], report["model_path"],
                      report["scan_timestamp"]]) + "\0"
    for f in report["files"]:
        name += f["path"] + "\0" + (f["sha256"] or "") + "\0"
    ns = uuid.UUID("c4096859-2344-47e7-b715-0d66e6ba74bb")
    check(bom["serialNumber"] == f"urn:uuid:{uuid.uuid5(ns, name)}",
          f"{case}: serialNumber is the documented UUID v5")
    meta = bom["metadata"]
    check(meta["timestamp"] == report["scan_timestamp"], f"{case}: timestamp")
    check(meta["tools"]["components"][0]["name"] == "model-scanner", f"{case}: tool")
    model = meta["component"]
    check(model["type"] == "machine-learning-model" and model["name"] == report["model_name"],
          f"{case}: the model component")

    refs = [model["bom-ref"]] + [c["bom-ref"] for c in bom.get("components", [])] + \
        [v["bom-ref"] for v in bom.get("vulnerabilities", [])]
    check(len(refs) == len(set(refs)), f"{case}: bom-refs are unique")
    component_refs = set(refs[:1 + len(bom.get("components", []))])

    files = {c["name"]: c for c in bom.get("components", []) if c["type"] == "file"}
    check(set(files) == {f["path"] for f in report["files"]}, f"{case}: a component per file")
    for f in report["files"]:
        c = files.get(f["path"], {})
        props = {p["name"]: p["value"] for p in c.get("properties", [])}
        check(props.get("model-scanner:format") == f["format"] and
              props.get("model-scanner:size") == str(f["size"]), f"{case}: {f['path']} facts")
        if f["sha256"]:
            check(c.get("hashes") == [{"alg": "SHA-256", "content": f["sha256"]}],
                  f"{case}: {f['path']} SHA-256")

    libs = [c for c in bom.get("components", []) if c["type"] == "library"]
    for c in libs:
        check(c["purl"].startswith("pkg:pypi/" + c["name"]), f"{case}: purl of {c['name']}")
        if "version" in c:
            check(c["purl"] == f"pkg:pypi/{c['name']}@{urllib.parse.quote(c['version'], safe='')}",
                  f"{case}: purl of {c['name']} names its version")
    names = {d["name"] for d in (facts.get("dependencies") or [])}
    check(names <= {c["name"] for c in libs}, f"{case}: a library per package named")
    for d in bom.get("dependencies", []):
        check(d["ref"] in component_refs and all(x in component_refs for x in d["dependsOn"]),
              f"{case}: dependency graph refers to components")
    if libs:
        check(bom["dependencies"][0]["ref"] == model["bom-ref"] and
              set(bom["dependencies"][0]["dependsOn"]) == {c["bom-ref"] for c in libs},
              f"{case}: the model depends on its packages")

    vulns = bom.get("vulnerabilities", [])
    for v in vulns:
        check(all(a["ref"] in component_refs for a in v["affects"]),
              f"{case}: {v['id']} affects a component")
        props = {p["name"]: p["value"] for p in v["properties"]}
        check("model-scanner:rule_id" in props and "model-scanner:location" in props,
              f"{case}: {v['id']} properties")
    findings = findings_of(report)
    plain = [f for f in findings if not (f["rule_id"] == "DEPENDENCY-VULNERABLE"
                                         and f["details"].get("advisories"))]
    advisories = sum(len(f["details"]["advisories"]) for f in findings
                     if f["rule_id"] == "DEPENDENCY-VULNERABLE")
    check(len(vulns) == len(plain) + advisories, f"{case}: a vulnerability per finding "
          f"and per advisory ({len(vulns)} vs {len(plain)} + {advisories})")
    by_rule = {}
    for v in vulns:
        if v["id"] == [p["value"] for p in v["properties"]
                       if p["name"] == "model-scanner:rule_id"][0]:
            by_rule.setdefault(v["id"], []).append(v)
    for f in plain:
        matches = [v for v in by_rule.get(f["rule_id"], [])
                   if v["description"] == f["description"] and
                   {"name": "model-scanner:location", "value": f["location"]} in v["properties"]]
        if check(matches, f"{case}: {f['rule_id']} at {f['location']} is a vulnerability"):
            v = matches[0]
            check(v["ratings"][0]["severity"] == CDX_SEVERITY[f["severity"]]
                  and v["ratings"][0]["method"] == "other", f"{case}: rating of {f['rule_id']}")
            check(v["recommendation"] == f["recommendation"], f"{case}: recommendation")
            outer = outer_file(f["location"], {x["path"] for x in report["files"]})
            if f["location"] == "Model Repository":
                check(v["affects"] == [{"ref": model["bom-ref"]}],
                      f"{case}: repository-wide finding affects the model")
            elif outer and not f["rule_id"].startswith("DEPENDENCY-"):
                check(v["affects"] == [{"ref": files[outer]["bom-ref"]}],
                      f"{case}: {f['location']} affects {outer}")
    return bom


# ---- the cases ----

def make_folders(tmp):
    """Folders whose reports exercise what the fixtures do not."""
    card = os.path.join(tmp, "card-model")
    os.makedirs(card)
    with open(os.path.join(card, "README.md"), "w") as f:
        f.write("---\nlicense: mit\nbase_model: org/base-7b\ndatasets:\n  - wikitext\n"
                "  - org/private-set\nlanguage: [en, fr]\npipeline_tag: text-generation\n"
                "library_name: transformers\ntags:\n  - llm\n  - demo\n"
                "model-index:\n  - name: card-model-7b\n    results: []\n---\n# Card\n")
    with open(os.path.join(card, "config.json"), "w") as f:
        json.dump({"model_type": "llama", "transformers_version": "4.38.0"}, f)
    with open(os.path.join(card, "requirements.txt"), "w") as f:
        f.write("torch==2.0.1+cu117\nsentencepiece\n")
    other = os.path.join(tmp, "other-license")
    os.makedirs(other)
    with open(os.path.join(other, "README.md"), "w") as f:
        f.write("---\nlicense: other\nlicense_name: acme-model-license\n"
                "license_link: https://example.com/LICENSE\n---\n")
    listed = os.path.join(tmp, "license-list")
    os.makedirs(listed)
    with open(os.path.join(listed, "README.md"), "w") as f:
        f.write("---\nlicense:\n  - cc-by-4.0\n  - mit\ntags: solo\ntags: [repeated]\n---\n")
    many = os.path.join(tmp, "many-deps")
    os.makedirs(many)
    with open(os.path.join(many, "requirements.txt"), "w") as f:
        f.writelines(f"package-{i:04d}==1.{i}\n" for i in range(1005))
    odd = os.path.join(tmp, "odd names")
    os.makedirs(os.path.join(odd, "sub dir"))
    pickle = b"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01\x85\x94."
    for name in ("we ird #1%.pkl", "mod\u00e8le.bin", "sub dir/a:b.pkl"):
        with open(os.path.join(odd, name), "wb") as f:
            f.write(pickle)
    return card, other, listed, many, odd


def main():
    driver, tests_dir = sys.argv[1], sys.argv[2]
    scanner = sys.argv[3] if len(sys.argv) > 3 else None
    sarif_v, cdx_v, multitool = load_validators(tests_dir)
    golden = os.path.join(tests_dir, "golden")
    deps = os.path.join(tests_dir, "fixtures", "deps", "repos")
    cases = [(c, os.path.join(golden, c, "model")) for c in sorted(os.listdir(golden))
             if os.path.isdir(os.path.join(golden, c, "model"))]
    cases += [(f"deps/{c}", os.path.join(deps, c)) for c in sorted(os.listdir(deps))]
    cases.append(("single-file", os.path.join(golden, "clean-pickles", "model", "array.pkl")))
    tmp = tempfile.TemporaryDirectory(prefix="sarif-cdx-")
    card, other, listed, many, odd = make_folders(tmp.name)
    cases += [("card-model", card), ("other-license", other), ("license-list", listed),
              ("many-deps", many), ("odd-names", odd)]

    out = {}
    logs = []
    for case, path in cases:
        flags = []
        if case == "deps/requirements-mixed":
            flags = ["--suppress-first"]
        if case == "odd-names":
            flags = ["--no-hash"]
        got = export(driver, "all", [path], *flags)
        for key in ("json", "sarif", "cyclonedx"):
            check(got[key] is not None, f"{case}: the {key} writer returned a document")
        report = got["json"]
        check("dependencies" not in report and "model_card" not in report,
              f"{case}: the JSON report is unchanged (no BOM facts in it)")
        errs = schema_errors(sarif_v, got["sarif"])
        check(not errs, f"{case}: SARIF is schema-valid: {errs[:5]}")
        errs = schema_errors(cdx_v, got["cyclonedx"])
        check(not errs, f"{case}: CycloneDX is schema-valid: {errs[:5]}")
        model_dir = path if os.path.isdir(path) else os.path.dirname(path)
        run = check_sarif(case, got["sarif"], report, model_dir)
        bom = check_cyclonedx(case, got["cyclonedx"], report, got["facts"])
        out[case] = (report, run, bom, got["facts"])
        logs.append((case, got["sarif"]))

    # several reports in one log: one run each, distinct categories (GitHub
    # rejects a file with two runs of one tool and category)
    multi = export(driver, "sarif", [p for c, p in cases if c in
                                     ("remote-code", "clean-pickles", "deps/benign")])
    check(not schema_errors(sarif_v, multi), "multi-run SARIF is schema-valid")
    check(len(multi["runs"]) == 3 and
          len({r["automationDetails"]["id"] for r in multi["runs"]}) == 3,
          "a run per report, each with its own category")
    logs.append(("multi-run", multi))

    def result(case, rule, location):
        return [r for r in out[case][1]["results"]
                if r["ruleId"] == rule and r["properties"]["location"] == location]

    def region(r):
        return r["locations"][0]["physicalLocation"].get("region")

    # a Python finding has its line; a notebook cell line is not a file line
    py = result("remote-code", "CUSTOM-CODE-DANGEROUS", "modeling_acme.py:14")
    check(len(py) == 2 and all(region(r) == {"startLine": 14} and
                               r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                               == "modeling_acme.py" for r in py),
          "remote-code: modeling_acme.py:14 is line 14 of modeling_acme.py")
    nb = result("remote-code", "CUSTOM-CODE-DANGEROUS", "curl-pipe-sh.ipynb:cell2:line1")
    check(len(nb) == 1 and region(nb[0]) is None, "remote-code: a notebook cell has no region")
    dep = result("remote-code", "DEPENDENCY-VULNERABLE", "config.json")
    check(dep and dep[0]["level"] == "error" and
          dep[0]["properties"]["security-severity"] == "9.5",
          "remote-code: a dependency raised to Critical keeps its own severity")
    # byte offsets where details has one on the file itself
    trailing = result("broken-and-appended", "PICKLE-TRAILING-DATA", "trailing.pkl")
    check(trailing and region(trailing[0]) == {"byteOffset": 14},
          "broken-and-appended: trailing data at byte 14")
    appended = result("broken-and-appended", "PICKLE-APPENDED-STREAM", "appended.pkl")
    check(appended and region(appended[0]) == {"byteOffset": 68},
          "broken-and-appended: appended stream at byte 68")
    # a container member: the outer file is the artifact, the member the logical location
    member = result("unanalysed-containers", "PICKLE-DANGEROUS-GLOBAL", "archive.zip!archive/data.pkl")
    check(member and member[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
          == "archive.zip" and region(member[0]) is None,
          "unanalysed-containers: a member is shown on its archive")
    # repository-wide findings: the model card, or the model folder itself
    repo = result("remote-code", "PROVENANCE-UNVERIFIED", "Model Repository")
    check(repo and repo[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
          == "README.md", "remote-code: a repository-wide finding is shown on the model card")
    repo = result("clean-pickles", "PROVENANCE-UNVERIFIED", "Model Repository")
    check(repo and repo[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
          == ".", "clean-pickles: without a model card, on the model folder")
    # one file scanned on its own: the folder holding it is the base
    single = out["single-file"][1]
    check([a["location"]["uri"] for a in single["artifacts"]] == ["array.pkl"],
          "single-file: the file is its only artifact")
    # odd names are percent-encoded URI references
    uris = sorted(a["location"]["uri"] for a in out["odd-names"][1]["artifacts"])
    check(uris == ["mod%C3%A8le.bin", "sub%20dir/a%3Ab.pkl", "we%20ird%20%231%25.pkl"],
          f"odd-names: percent-encoded URIs {uris}")
    # suppressed: a result with a suppression, an analysis in the BOM
    rm_report, rm_run, rm_bom, rm_facts = out["deps/requirements-mixed"]
    sup = [r for r in rm_run["results"] if r.get("suppressions")]
    check(len(sup) == 1 and sup[0]["suppressions"] == [{
        "kind": "external", "status": "accepted", "justification": "accepted for the export test",
        "properties": {"expires": "2099-12-31"}}], "a suppressed finding is a suppressed result")
    check(rm_run["properties"]["summary"]["suppressed"] == 1, "the run counts it suppressed")
    analysed = [v for v in rm_bom["vulnerabilities"] if "analysis" in v]
    check(analysed and all(v["analysis"]["state"] == "not_affected" and
                           "accepted for the export test" in v["analysis"]["detail"] and
                           "2099-12-31" in v["analysis"]["detail"] for v in analysed),
          "a suppressed finding is not_affected in the BOM, with the reason")

    # dependencies: purls, the graph, advisories on the package
    libs = {c["bom-ref"]: c for c in rm_bom["components"] if c["type"] == "library"}
    check("pkg:pypi/torch@2.5.1" in libs and libs["pkg:pypi/torch@2.5.1"]["version"] == "2.5.1",
          "requirements-mixed: torch==2.5.1 is pkg:pypi/torch@2.5.1")
    check("pkg:pypi/transformers" in libs and "version" not in libs["pkg:pypi/transformers"],
          "requirements-mixed: a range pin has no version")
    torch = [v for v in rm_bom["vulnerabilities"] if v["id"] == "PYSEC-2025-41"]
    check(torch and torch[0]["affects"] == [{"ref": "pkg:pypi/torch@2.5.1"}] and
          any(r["id"] == "CVE-2025-32434" for r in torch[0].get("references", [])) and
          torch[0]["ratings"][0]["method"] == "CVSSv31",
          "requirements-mixed: PYSEC-2025-41 affects torch 2.5.1, cites its CVE, rated by CVSS")
    facts = {(d["name"], d["kind"]) for d in rm_facts["dependencies"]}
    check({("torch", "exact"), ("transformers", "range"), ("numpy", "unpinned"),
           ("tokenizers", "url"), ("mylib", "invalid")} <= facts,
          f"requirements-mixed: dependency facts {sorted(facts)}")
    torch_fact = [d for d in rm_facts["dependencies"] if d["name"] == "torch"][0]
    check(torch_fact == {"name": "torch", "version": "2.5.1", "kind": "exact",
                         "source": "requirements.txt", "line": 5},
          f"requirements-mixed: the torch fact {torch_fact}")
    tr = [d for d in rm_facts["dependencies"] if d["name"] == "transformers"][0]
    check(tr["specifier"] == tr["version"] and "4.30" in tr["specifier"],
          "requirements-mixed: a range pin's version is its specifier")

    # model card facts
    hf = out["deps/hf-old-transformers"]
    check(hf[3]["model_card"] == {"license": "apache-2.0", "library_name": "transformers"},
          f"hf-old-transformers: model card facts {hf[3]['model_card']}")
    check(hf[2]["metadata"]["component"].get("licenses") == [{"license": {"id": "Apache-2.0"}}],
          "hf-old-transformers: apache-2.0 is SPDX Apache-2.0")
    card_report, _, card_bom, card_facts = out["card-model"]
    check(card_facts["model_card"] == {
        "license": "mit", "base_model": ["org/base-7b"], "datasets": ["wikitext", "org/private-set"],
        "language": ["en", "fr"], "pipeline_tag": "text-generation", "library_name": "transformers",
        "tags": ["llm", "demo"], "model_index_name": "card-model-7b"},
        f"card-model: facts {card_facts['model_card']}")
    model = card_bom["metadata"]["component"]
    check(model.get("licenses") == [{"license": {"id": "MIT"}}], "card-model: MIT")
    check(model.get("modelCard", {}).get("modelParameters") == {
        "task": "text-generation",
        "datasets": [{"type": "dataset", "name": "wikitext"},
                     {"type": "dataset", "name": "org/private-set"}]},
        "card-model: task and datasets")
    check(model.get("pedigree") == {"ancestors": [{"type": "machine-learning-model",
                                                    "name": "org/base-7b"}]},
          "card-model: the base model is an ancestor")
    check(model.get("tags") == ["llm", "demo"], "card-model: tags")
    card_props = {(p["name"], p["value"]) for p in model["modelCard"]["properties"]}
    check({("model-scanner:card:language", "en"), ("model-scanner:card:language", "fr"),
           ("model-scanner:card:model_index_name", "card-model-7b")} <= card_props,
          "card-model: language and model-index name")
    card_libs = {c["bom-ref"] for c in card_bom["components"] if c["type"] == "library"}
    check({"pkg:pypi/torch@2.0.1%2Bcu117", "pkg:pypi/transformers@4.38.0",
           "pkg:pypi/sentencepiece"} <= card_libs, f"card-model: packages {sorted(card_libs)}")
    other_model = out["other-license"][2]["metadata"]["component"]
    check(other_model.get("licenses") == [{"license": {"name": "acme-model-license",
                                                       "url": "https://example.com/LICENSE"}}],
          "other-license: license other is given by its name and link")
    check(out["odd-names"][3]["model_card"] is None, "odd-names: no model card, no facts")
    check(out["license-list"][3]["model_card"] == {"license": "cc-by-4.0", "tags": ["solo"]},
          f"license-list: the first license of a list, the first of a repeated key "
          f"{out['license-list'][3]['model_card']}")
    check(out["license-list"][2]["metadata"]["component"]["licenses"] ==
          [{"license": {"id": "CC-BY-4.0"}}], "license-list: CC-BY-4.0")
    many_report, _, many_bom, many_facts = out["many-deps"]
    check(len(many_facts["dependencies"]) == 1000 and
          many_facts["dependencies"][-1]["name"] == "package-0999",
          "many-deps: the first 1,000 declarations are kept")
    check(len([c for c in many_bom["components"] if c["type"] == "library"]) == 1000,
          "many-deps: 1,000 libraries in the BOM")
    limit = [f for f in findings_of(many_report) if f["rule_id"] == "SCAN-LIMIT" and
             f["details"].get("limit") == "dependencies listed in a bill of materials"]
    check(len(limit) == 1 and limit[0]["details"]["declarations"] == 1005,
          "many-deps: the cap is a SCAN-LIMIT finding")

    # the command line: --output-format sarif|cyclonedx, with a policy that
    # suppresses and overrides, one model and several
    if scanner:
        pol = os.path.join(tmp.name, "policy.yml")
        with open(pol, "w") as f:
            f.write("severity:\n  PROVENANCE-UNVERIFIED: low\n"
                    "suppress:\n  - rule: PICKLE-INSECURE-FORMAT\n"
                    "    reason: converted elsewhere\n    expires: 2999-01-01\n")
        models = [os.path.join(golden, "hf-repo-malicious", "model"),
                  os.path.join(golden, "remote-code", "model")]

        def cli(*args):
            proc = subprocess.run([scanner, "--no-progress", *args], capture_output=True)
            return proc.returncode, proc.stdout.decode()

        rc, text = cli("--output-format", "sarif", "--policy", pol, "--fail-on", "critical",
                       *[a for m in models for a in ("--model-path", m)])
        log = json.loads(text)
        check(rc == 1, f"cli sarif: exit 1 on the gate (got {rc})")
        check(not schema_errors(sarif_v, log), f"cli sarif: schema-valid "
              f"{schema_errors(sarif_v, log)[:3]}")
        check(len(log["runs"]) == 2, "cli sarif: a run per model")
        sup = [r for run in log["runs"] for r in run["results"] if r.get("suppressions")]
        check(sup and all(r["ruleId"] == "PICKLE-INSECURE-FORMAT" and
                          r["suppressions"][0]["justification"] == "converted elsewhere"
                          for r in sup), "cli sarif: policy suppressions are SARIF suppressions")
        prov = [r for run in log["runs"] for r in run["results"]
                if r["ruleId"] == "PROVENANCE-UNVERIFIED"]
        check(prov and all(r["level"] == "note" and
                           r["properties"]["security-severity"] == "3.0" for r in prov),
              "cli sarif: a severity override shows in the result")
        logs.append(("cli-multi", log))
        rc, text = cli("--output-format", "cyclonedx", "--policy", pol,
                       *[a for m in models for a in ("--model-path", m)])
        boms = [json.loads(line) for line in text.splitlines()]
        check(len(boms) == 2, "cli cyclonedx: JSON Lines, a BOM per model")
        for i, bom in enumerate(boms):
            errs = schema_errors(cdx_v, bom)
            check(not errs, f"cli cyclonedx: BOM {i} schema-valid {errs[:3]}")
        check(any(v.get("analysis", {}).get("state") == "not_affected"
                  for v in boms[0].get("vulnerabilities", [])) if boms else False,
              "cli cyclonedx: the pickle model's BOM shows the suppression as an analysis")
        rc, text = cli("--output-format", "cyclonedx", "--model-path", models[0])
        bom = json.loads(text)
        check(not schema_errors(cdx_v, bom) and bom["metadata"]["component"]["name"] ==
              "model", "cli cyclonedx: one model is one pretty-printed BOM")
    else:
        check(False, "the scanner binary was not given to the test")

    # GitHub's ingestion rules and the SARIF SDK's own checks, on every log
    with tempfile.TemporaryDirectory(prefix="sarif-gh-") as d:
        for i, (case, log) in enumerate(logs):
            with open(os.path.join(d, f"{i:02d}.sarif"), "w") as f:
                json.dump(log, f, indent=1)
        res = os.path.join(d, "validation.json")
        proc = subprocess.run([multitool, "validate", "--rule-kind", "Gh;Sarif", "--log",
                               "ForceOverwrite", "-o", res] +
                              [os.path.join(d, f"{i:02d}.sarif") for i in range(len(logs))],
                              capture_output=True, timeout=600,
                              env=dict(os.environ, DOTNET_CLI_TELEMETRY_OPTOUT="1"))
        if check(proc.returncode == 0 and os.path.exists(res),
                 f"Sarif.Multitool validate ran (exit {proc.returncode}: "
                 f"{proc.stdout.decode(errors='replace')[-2000:]})"):
            with open(res) as f:
                v = json.load(f)
            rules = v["runs"][0]["tool"]["driver"].get("rules", [])
            levels = {r["id"]: r.get("defaultConfiguration", {}).get("level", "warning")
                      for r in rules}
            errors = [r for r in v["runs"][0].get("results", [])
                      if r.get("level", levels.get(r["ruleId"], "warning")) == "error"]
            for e in errors[:20]:
                print(f"  {e['ruleId']}: {e['message']}")
            check(not errors, f"Sarif.Multitool: {len(errors)} error(s) (GitHub rules GH*, SARIF*)")
            print(f"Sarif.Multitool: {len(v['runs'][0].get('results', []))} warning(s) or note(s), "
                  f"{len(errors)} error(s) on {len(logs)} logs")

    finish()


if __name__ == "__main__":
    main()
