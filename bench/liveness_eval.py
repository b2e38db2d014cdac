"""Liveness evaluation: verdicts of `morgue archive` on real news pages turned into dead ones.

Builds cases from the ``dev`` article pages of ../shared/corpus (read at run time, never copied),
serves them on 127.0.0.1 and runs ``morgue archive --format json`` on them, then prints a
confusion matrix, precision and recall per verdict, and the appended-stub figures.

Two hosts serve every page, each page under its own path prefix (so each page has its own probe,
as each publisher would): host S answers unknown URLs with 200 and the publisher's error page (a
soft-404 host), host H with 404. Cases per page:

- ``live``: the page as it is, on S and on H (expected ``ok``);
- ``error_200``: the page's chrome with its article replaced by an error message, served with
  200: on S the host's usual error page (what it serves for any unknown URL), on H a removal
  notice that differs from its 404 page (expected ``soft_404``);
- ``error_404``: that error page served with 404 on H (expected ``not_found``);
- ``stub``: the page with a "not available" stub appended inside its article (expected ``ok``,
  and none of the stub's words left at the end of the text);
- ``redirect_home``: a 302 to the home page (expected ``soft_404``);
- ``hard``: 410, 401, 403, 429, 451, 503 (expected ``not_found``, ``blocked``, ``server_error``).

Messages are in the languages the rules know (``seen``) and in wording and languages they do not
(``unseen``: Swedish, Polish, Finnish, Turkish, Indonesian, Czech and English phrasings no rule
contains); a third of the error titles carry "404", as many real error pages do. Figures are
printed per group.

    python bench/liveness_eval.py [--limit N] [--with-acceptance] [--leave-one-language-out]
                                  [--leave-one-site-out [--withhold-language]]

``--with-acceptance`` adds the ``acceptance`` pages as live pages only, to count false alarms on
every real live page; they are for measuring, never for tuning.

``--leave-one-language-out`` judges each language's error pages and stubs with that language's
wording withheld from the rules (its patterns and its translation-catalogue phrases), and prints
what each language gets.

``--leave-one-site-out`` judges each publisher's cases alone, in a morgue archive of their own:
no probe, page history or template learnt from another site is there, as for a site morgue
meets for the first time; it prints the sites with a miss and the recall over all of them.
``--withhold-language`` withholds, for each site, the wording of the languages its messages are
in as well: a site never seen, in a language the rules do not know.

``--no-probe`` archives without host probes, and ``--live-first`` archives the live pages in a
crawl of their own before the other cases, as an archive that has crawled the site before: with
``--leave-one-site-out --withhold-language``, what the rules that need neither wording nor a
probe give (the site's article template learnt from its live captures, above all).

``--stub-per-site`` appends one stub wording to all the stubbed pages of a site, as a site that
stubs its retired articles does (by default each page's stub has its own wording, to try many
wordings); the template signal that needs no wording, a paragraph that closes two different
stories of a site, can only act then, on the sites with two pages or more.

``--dated`` files each case of a page in a date directory of its own (``/pN/2026/11/DD/``), as
news sites do, so that the probes of a page's directories are shared
(archive.liveness.probe_sharing): the same figures must come out, with fewer probes (printed from
the crawl's stats).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from archive.liveness.soft404 import WITHHOLD_ENV
from tests.retired_pages import error_page, stub_page
from tests.static_site import Route, StaticSite

CORPUS = Path(
    os.environ.get("MORGUE_CORPUS") or Path(__file__).resolve().parents[2] / "shared" / "corpus"
)

SEEN = [  # (language, title, message): wording the rules know
    ("en", "Page not found", "Sorry, the page you were looking for could not be found."),
    ("en", "Article unavailable", "This article is no longer available on our website."),
    ("de", "Seite nicht gefunden", "Leider existiert diese Seite nicht mehr."),
    ("fr", "Page introuvable", "La page demandée n'existe plus ou a été déplacée."),
    ("es", "Página no encontrada", "Lo sentimos, esta página ya no está disponible."),
    ("it", "Pagina non trovata", "Il contenuto richiesto non è più disponibile."),
    ("pt", "Página não encontrada", "O conteúdo que procura já não está disponível."),
    ("nl", "Pagina niet gevonden", "Deze pagina bestaat niet meer."),
]
UNSEEN = [  # wording and languages written into no rule
    ("sv", "Sidan kunde inte hittas", "Tyvärr finns sidan du söker inte längre hos oss."),
    ("pl", "Nie znaleziono strony", "Przepraszamy, ta strona została usunięta lub przeniesiona."),
    ("fi", "Sivua ei löytynyt", "Hakemaasi sivua ei valitettavasti ole olemassa."),
    ("tr", "Sayfa bulunamadı", "Aradığınız sayfaya şu anda ulaşılamıyor."),  # noqa: RUF001
    ("id", "Halaman tidak ditemukan", "Maaf, halaman yang Anda cari sudah dihapus."),
    ("cs", "Stránka nenalezena", "Omlouváme se, požadovaná stránka neexistuje."),
    ("en", "Well, this is awkward", "We looked everywhere, but that story has wandered off."),
    ("en", "Nothing to see here", "Whatever used to live at this address has packed up and left."),
]
HARD = [(410, "not_found"), (401, "blocked"), (403, "blocked"), (429, "blocked"),
        (451, "blocked"), (503, "server_error")]  # fmt: skip


@dataclass
class Case:
    url: str
    kind: str
    expected: str
    group: str = ""
    stub: str = ""
    lang: str = ""  # the language of the message the case carries
    site: str = ""  # the publisher the page came from (its URL's host)


def load_pages(with_acceptance: bool, limit: int | None) -> tuple[list[dict], list[dict]]:
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").open()]
    dev = [r for r in rows if r["split"] == "dev" and r["kind"] == "article"]
    extra = [r for r in rows if r["split"] == "acceptance" and r["kind"] == "article"]
    if limit:
        dev = dev[:limit]
    return dev, (extra if with_acceptance else [])


def read_page(row: dict) -> bytes:
    return gzip.decompress((CORPUS / row["file"]).read_bytes())


def clean_error_page(body: bytes, live_text: str | None, error: bytes) -> bool:
    """Whether the built error page really lost the article (checked with our extractor)."""
    from archive.extraction.article import extract_page

    result = extract_page(error, "http://127.0.0.1/p/morgue-probe.html", "text/html")
    text = result.extraction.text if result and result.extraction else ""
    return len(text or "") < 1000 and (not live_text or live_text[:200] not in (text or ""))


def build(
    dev: list[dict], extra: list[dict], dated: bool = False, stub_per_site: bool = False
) -> tuple[dict[str, Route], dict[str, Route], list[Case], dict[str, bytes], dict[str, bytes]]:
    soft: dict[str, Route] = {"/": Route(body=b"<html><body><h1>Home</h1></body></html>")}
    hard: dict[str, Route] = {"/": Route(body=b"<html><body><h1>Home</h1></body></html>")}
    cases: list[Case] = []
    soft_errors: dict[str, bytes] = {}  # prefix -> what S serves for an unknown URL there
    hard_errors: dict[str, bytes] = {}  # prefix -> H's 404 page there
    messages = [("seen", m) for m in SEEN] + [("unseen", m) for m in UNSEEN]
    site_stubs: dict[str, tuple[str, tuple[str, str, str]]] = {}  # with stub_per_site
    from archive.extraction.article import extract_page

    skipped = 0

    def at(prefix: str, day: int, name: str) -> str:
        return f"{prefix}2026/11/{day:02d}/{name}" if dated else f"{prefix}{name}"

    for i, row in enumerate(dev + extra):
        body = read_page(row)
        prefix = f"/p{i}/"
        site = urlsplit(row.get("url") or "").hostname or row["id"]
        site = site.removeprefix("www.")
        if i < len(dev):
            live_result = extract_page(body, "http://127.0.0.1/p/story.html", "text/html")
            live_text = (
                live_result.extraction.text if live_result and live_result.extraction else None
            )
            probe_page = error_page(body, "Page not found", "Nothing here.", False)
            if not clean_error_page(body, live_text, probe_page):
                skipped += 1
                continue  # no believable error page can be made from it
        live = at(prefix, 1, f"story-{i}.html")
        soft[live] = hard[live] = Route(body=body)
        cases.append(Case(f"S{live}", "live", "ok", site=site))
        cases.append(Case(f"H{live}", "live", "ok", site=site))
        if i >= len(dev):
            continue  # acceptance pages: live cases only
        group, (lang, title, message) = messages[i % len(messages)]
        with_404 = i % 3 == 0
        notice_group, (notice_lang, notice_title, notice) = messages[(i + 5) % len(messages)]
        soft_errors[prefix] = error_page(body, title, message, with_404)
        hard_errors[prefix] = error_page(body, title, message, with_404)
        removed = at(prefix, 2, f"removed-{i}.html")
        soft[removed] = Route(body=soft_errors[prefix])
        cases.append(Case(f"S{removed}", "error_200", "soft_404", group, lang=lang, site=site))
        # On H the removal notice differs from the 404 page: wording and structure must tell.
        hard[removed] = Route(body=error_page(body, notice_title, notice, i % 3 == 1))
        cases.append(
            Case(f"H{removed}", "error_200", "soft_404", notice_group, lang=notice_lang, site=site)
        )
        gone = at(prefix, 3, f"gone-{i}.html")
        hard[gone] = Route(404, hard_errors[prefix])
        cases.append(Case(f"H{gone}", "error_404", "not_found", group, lang=lang, site=site))
        stubbed = at(prefix, 4, f"stub-{i}.html")
        stub_group, (stub_lang, stub_title, stub) = (
            site_stubs.setdefault(site, (group, (lang, title, message)))
            if stub_per_site
            else (group, (lang, title, message))
        )
        for host, routes in (("S", soft), ("H", hard)):
            routes[stubbed] = Route(body=stub_page(body, stub_title, stub, live_text))
            cases.append(
                Case(f"{host}{stubbed}", "stub", "ok", stub_group, stub, stub_lang, site=site)
            )
        moved = at(prefix, 5, f"moved-{i}.html")
        soft[moved] = Route.redirect("/")
        cases.append(Case(f"S{moved}", "redirect_home", "soft_404", site=site))
        status, verdict = HARD[i % len(HARD)]
        status_path = at(prefix, 6, f"status-{i}.html")
        hard[status_path] = Route(status, b"<html><body><h1>Error</h1></body></html>")
        cases.append(Case(f"H{status_path}", "hard", verdict, site=site))
    print(f"{skipped} dev pages skipped: their article could not be cut out to make an error page")
    return soft, hard, cases, soft_errors, hard_errors


def _unknown(errors: dict[str, bytes], status: int):  # type: ignore[no-untyped-def]
    def answer(path: str) -> Route:
        match = re.match(r"^(/p\d+/)", path)
        if match and match.group(1) in errors:
            return Route(status, errors[match.group(1)])
        return Route(404, b"<html><body>Not found</body></html>")

    return answer


# How every crawl of the evaluation runs: ``--no-probe`` and ``--live-first`` set these.
OPTIONS = {"no_probe": False, "live_first": False}


def run(
    cases: list[Case], soft: StaticSite, hard: StaticSite, withhold: str = ""
) -> dict[str, dict]:
    urls = [(soft.base if c.url[0] == "S" else hard.base) + c.url[1:] for c in cases]
    # With --live-first, the live pages are archived in a crawl of their own first, as by an
    # archive that has crawled the site before: the site's articles are then in the archive.
    batches = [urls]
    if OPTIONS["live_first"]:
        live = {u for c, u in zip(cases, urls, strict=True) if c.kind == "live"}
        batches = [[u for u in urls if u in live], [u for u in urls if u not in live]]
    settings = ["-s", "LIVENESS_PROBE_ENABLED=False"] if OPTIONS["no_probe"] else []
    rows: list[dict] = []
    elapsed = 0.0
    stats: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for number, batch in enumerate(b for b in batches if b):
            url_file = Path(tmp) / f"urls-{number}.txt"
            url_file.write_text("\n".join(batch))
            started = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-m", "archive", "--data-dir", str(Path(tmp) / "data"), "archive",
                 "--format", "json", "--no-recover", "-i", str(url_file),
                 # The corpus pages' images sit on their publishers' hosts: not fetched, offline.
                 "--no-requisites",
                 "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                 "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "ROBOTSTXT_OBEY=False",
                 *settings],
                capture_output=True, text=True, check=False,
                env={**os.environ, WITHHOLD_ENV: withhold},
            )  # fmt: skip
            elapsed += time.perf_counter() - started
            if proc.returncode != 0:
                sys.exit(f"morgue archive failed ({proc.returncode}): {proc.stderr[-2000:]}")
            rows += [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        import sqlite3

        db = sqlite3.connect(Path(tmp) / "data" / "morgue.sqlite3")
        texts = dict(db.execute("SELECT id, text FROM captures").fetchall())
        for (run_stats,) in db.execute("SELECT stats FROM runs"):
            for key, value in json.loads(run_stats or "{}").items():
                if isinstance(value, int | float):
                    stats[key] = stats.get(key, 0) + value
        db.close()
    shared = stats.get("liveness/probe_shared", 0)
    print(f"probes: {stats.get('liveness/probes', 0)} fetched, "
          f"{shared} directories shared a pattern's answer")  # fmt: skip
    print(f"archived {len(urls)} URLs in {elapsed:.1f} s ({len(urls) / elapsed:.1f} URLs/s)\n")
    out: dict[str, dict] = {}
    for row in rows:
        if row.get("recovered_from"):
            continue
        row["text"] = texts.get(row["capture_id"])
        out[row["url"]] = row
    return {c.url: out[u] for c, u in zip(cases, urls, strict=True) if u in out}


def report(cases: list[Case], results: dict[str, dict]) -> None:
    verdicts = ["ok", "not_found", "soft_404", "blocked", "server_error", "unreachable"]
    matrix: Counter[tuple[str, str]] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    wrong: list[str] = []
    for case in cases:
        got = results[case.url]["verdict"]
        matrix[(case.expected, got)] += 1
        key = f"{case.kind}" + (f" ({case.group})" if case.group else "")
        by_kind[key]["right" if got == case.expected else "wrong"] += 1
        if got != case.expected:
            row = results[case.url]
            wrong.append(f"  {case.kind:13} {case.group:6} expected {case.expected:9} got {got} "
                         f"({row['reason']}) {case.url}")  # fmt: skip
    print("confusion matrix (rows: expected, columns: got)")
    print(f"{'':14}" + "".join(f"{v:>13}" for v in verdicts))
    for expected in verdicts:
        if any(matrix[(expected, v)] for v in verdicts):
            print(f"{expected:14}" + "".join(f"{matrix[(expected, v)]:>13}" for v in verdicts))
    print("\nper verdict        precision   recall   support")
    for v in verdicts:
        tp = matrix[(v, v)]
        predicted = sum(matrix[(e, v)] for e in verdicts)
        actual = sum(matrix[(v, g)] for g in verdicts)
        if not actual and not predicted:
            continue
        precision = tp / predicted if predicted else float("nan")
        recall = tp / actual if actual else float("nan")
        print(f"{v:18} {precision:9.3f} {recall:8.3f} {actual:9}")
    print("\nper case                  right   wrong   rate")
    for key in sorted(by_kind):
        c = by_kind[key]
        total = c["right"] + c["wrong"]
        print(f"{key:24} {c['right']:7} {c['wrong']:7} {c['right'] / total:6.3f}")
    stubs = [c for c in cases if c.kind == "stub"]
    left_cases = [c for c in stubs if _stub_left(results[c.url].get("text"), c.stub)]
    left = len(left_cases)
    for c in left_cases:
        wrong.append(f"  stub left    {c.group:6} {c.url} {results[c.url].get('evidence')}")
    kept = sum(results[c.url]["verdict"] == "ok" for c in stubs)
    print(f"\nappended stubs: {kept}/{len(stubs)} ok, "
          f"stub text left in {left}/{len(stubs)} article texts")  # fmt: skip
    live = [c for c in cases if c.kind == "live"]
    alarms = sum(1 for c in live if results[c.url]["verdict"] != "ok")
    print(f"false alarms on live pages: {alarms}/{len(live)}")
    if wrong:
        print(f"\nwrong verdicts ({len(wrong)}):")
        print("\n".join(wrong[:60]))


def leave_one_language_out(cases: list[Case], soft: StaticSite, hard: StaticSite) -> None:
    """Each language's error pages and stubs judged with that language's wording withheld
    from the rules (their patterns and the catalogue phrases alike): what structure and the
    other languages' wording give on a language the rules would not know."""
    languages = sorted({c.lang for c in cases if c.lang})
    print("leave one language out  error_200 recall   stubs cut   error_404 recall")
    totals = Counter[str]()
    for lang in languages:
        mine = [c for c in cases if c.lang == lang]
        with contextlib.redirect_stdout(io.StringIO()):
            results = run(mine, soft, hard, withhold=lang)
        counts = Counter[str]()
        for case in mine:
            row = results[case.url]
            counts[case.kind] += 1
            counts[f"{case.kind}/right"] += _right(case, row)
        totals.update(counts)
        print(f"{lang:23} " + "   ".join(
            f"{counts[f'{k}/right']:>5}/{counts[k]:<5}" for k in ("error_200", "stub", "error_404")
        ))  # fmt: skip
    print(f"{'all':23} " + "   ".join(
        f"{totals[f'{k}/right']:>5}/{totals[k]:<5}" for k in ("error_200", "stub", "error_404")
    ))  # fmt: skip


def _right(case: Case, row: dict) -> bool:
    if case.kind == "stub":
        return bool(row["verdict"] == "ok" and not _stub_left(row.get("text"), case.stub))
    return bool(row["verdict"] == case.expected)


def leave_one_site_out(
    cases: list[Case], soft: StaticSite, hard: StaticSite, withhold_language: bool
) -> None:
    """Each publisher's cases judged alone, in an archive of their own: no probe, page history
    or template learnt from any other site is there to help (and, with ``withhold_language``,
    none of the wording of the languages its messages are in)."""
    sites = sorted({c.site for c in cases})
    kinds = ("error_200", "stub", "error_404", "redirect_home", "live")
    rows: list[tuple[str, Counter[str]]] = []
    totals = Counter[str]()
    for number, site in enumerate(sites, start=1):
        mine = [c for c in cases if c.site == site]
        withhold = ",".join(sorted({c.lang for c in mine if c.lang})) if withhold_language else ""
        with contextlib.redirect_stdout(io.StringIO()):
            results = run(mine, soft, hard, withhold=withhold)
        counts = Counter[str]()
        for case in mine:
            counts[case.kind] += 1
            if case.url not in results:  # morgue stored no capture of it: counted wrong
                print(f"  no capture of {case.url} ({site})", file=sys.stderr)
                continue
            counts[f"{case.kind}/right"] += _right(case, results[case.url])
        rows.append((site, counts))
        totals.update(counts)
        print(f"  {number}/{len(sites)} {site}", file=sys.stderr)
    print(f"leave one site out: {len(sites)} sites, each in an archive of its own"
          + (", its languages' wording withheld" if withhold_language else ""))  # fmt: skip
    print(f"{'site':34} " + " ".join(f"{k:>13}" for k in kinds))
    for site, counts in rows:
        if all(counts[f"{k}/right"] == counts[k] for k in kinds):
            continue  # only the sites with a miss are listed
        print(f"{site[:34]:34} " + " ".join(
            f"{counts[f'{k}/right']:>6}/{counts[k]:<6}" for k in kinds
        ))  # fmt: skip
    print(f"{'all':34} " + " ".join(
        f"{totals[f'{k}/right']:>6}/{totals[k]:<6}" for k in kinds
    ))  # fmt: skip
    dead = totals["error_200"] + totals["redirect_home"]
    caught = totals["error_200/right"] + totals["redirect_home/right"]
    recall = [
        (c["error_200/right"] + c["redirect_home/right"]) / (c["error_200"] + c["redirect_home"])
        for _, c in rows
        if c["error_200"] + c["redirect_home"]
    ]
    alarms = totals["live"] - totals["live/right"]
    print(f"soft-404 recall {caught}/{dead} = {caught / dead:.3f}; lowest site {min(recall):.3f}; "
          f"sites at 1.000: {sum(r == 1.0 for r in recall)}/{len(recall)}; "
          f"live pages judged dead: {alarms}/{totals['live']}")  # fmt: skip


def _stub_left(text: str | None, message: str) -> bool:
    return bool(text) and message[:40] in text  # type: ignore[operator]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="dev pages to use (default all)")
    parser.add_argument(
        "--dated", action="store_true", help="each case in a date directory of its own"
    )
    parser.add_argument(
        "--leave-one-language-out",
        action="store_true",
        help="judge each language's cases with that language's wording withheld",
    )
    parser.add_argument(
        "--leave-one-site-out",
        action="store_true",
        help="judge each publisher's cases alone, in an archive of their own",
    )
    parser.add_argument(
        "--withhold-language",
        action="store_true",
        help="with --leave-one-site-out: withhold the wording of each site's languages too",
    )
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="no host probes: the rules that need none (wording, history, the site's template)",
    )
    parser.add_argument(
        "--live-first",
        action="store_true",
        help="archive the live pages in a crawl before the other cases",
    )
    parser.add_argument(
        "--stub-per-site",
        action="store_true",
        help="one stub wording for all the stubbed pages of a site, as a site has",
    )
    parser.add_argument(
        "--with-acceptance",
        action="store_true",
        help="add the acceptance pages as live pages (false alarms only)",
    )
    args = parser.parse_args()
    OPTIONS.update(no_probe=args.no_probe, live_first=args.live_first)
    if not (CORPUS / "manifest.jsonl").is_file():
        sys.exit(f"no corpus at {CORPUS}")
    dev, extra = load_pages(args.with_acceptance, args.limit)
    soft_routes, hard_routes, cases, soft_errors, hard_errors = build(
        dev, extra, args.dated, args.stub_per_site
    )
    print(f"{len(dev)} dev pages, {len(extra)} acceptance pages (live only), {len(cases)} cases")
    soft = StaticSite(routes=soft_routes, fallback_for=_unknown(soft_errors, 200))
    hard = StaticSite(routes=hard_routes, fallback_for=_unknown(hard_errors, 404))
    with soft, hard:
        if args.leave_one_language_out:
            leave_one_language_out(cases, soft, hard)
            return
        if args.leave_one_site_out:
            leave_one_site_out(cases, soft, hard, args.withhold_language)
            return
        results = run(cases, soft, hard)
    report(cases, results)


if __name__ == "__main__":
    main()
