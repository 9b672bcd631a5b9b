#!/usr/bin/env python3
"""The manual pages, as installed: `meson install` into a scratch directory,
then

  - every page renders with man -l --warnings=all and groff -ww without a
    warning;
  - each program's --help options are its page's OPTIONS, no more, no less;
  - every key daemon/config.c accepts is in fragnetd.conf(5), and every key
    the page describes is one config.c accepts;
  - every function include/fragnet.h declares has a page or an alias page
    (.so) whose NAME section names it, and every alias is a function.

  test_man.py --build DIR --src DIR --fragnetd F --fragnetctl C --fragnet-eval E
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import Checks, main  # noqa: E402

ENV = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="250", MAN_DISABLE_SECCOMP="1")
OPTION = r"(?:-[A-Za-z0-9]|--[a-z][a-z0-9-]*)"


def render(path, cwd=None):
    """(plain text, warnings) of man -l: man's own and groff's -ww."""
    r = subprocess.run(["man", "--warnings=all", "-l", path], capture_output=True, text=True,
                       env=ENV, cwd=cwd)
    g = subprocess.run(["groff", "-ww", "-man", "-z", "-Tutf8", path], capture_output=True,
                       text=True, env=ENV, cwd=cwd)
    return r.stdout, (r.stderr + g.stderr).strip() + ("" if r.returncode == 0 else
                                                      f" (man exit {r.returncode})")


def section(text, name):
    """The lines of section NAME of a rendered page (or a --help text with
    the same headings); the whole text if it has no such heading."""
    lines = text.splitlines()
    heads = [i for i, x in enumerate(lines) if x.strip() and not x[0].isspace()]
    for i in heads:
        if lines[i].strip() == name:
            end = next((j for j in heads if j > i), len(lines))
            return lines[i + 1:end]
    return lines


def options(lines):
    """The option names that start lines (an option list's items)."""
    found = set()
    for line in lines:
        m = re.match(rf"\s*({OPTION}(?:,\s*{OPTION})*)", line)
        if m:
            found.update(re.findall(OPTION, m.group(1)))
    return found


def page_tags(path, name):
    """The tags of the .TP items of section NAME of a page's source, as
    text: `.BI app. NAME .interface` is app.NAME.interface, `.BR a ", " b`
    is a and b."""
    tags, in_section, tagline = [], False, False
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith(".SH "):
            in_section = line[4:].strip('"') == name
        elif in_section and line == ".TP":
            tagline = True
        elif tagline:
            tagline = False
            words = shlex.split(line.split(None, 1)[1] if line.startswith(".") else line)
            tags.extend("".join(words).replace("\\-", "-").split(","))
    return [t.strip() for t in tags]


def config_keys(config_c):
    """(top-level keys, app.NAME fields) daemon/config.c accepts: the string
    tables it matches keys against."""
    src = open(config_c).read()
    keys = re.findall(r'\[K_\w+\]\s*=\s*"([a-z_]+)"', src)
    m = re.search(r"fields\[\]\s*=\s*\{([^}]*)\}", src)
    fields = re.findall(r'"([a-z_]+)"', m.group(1)) if m else []
    return set(keys), set(fields)


def install(build):
    dest = tempfile.mkdtemp(prefix="fragnet-man-")
    subprocess.run(["meson", "install", "-C", build, "--destdir", dest, "--quiet"],
                   check=True, capture_output=True)
    for root, dirs, files in os.walk(dest):
        if "fragnetd.8" in files:
            return dest, os.path.dirname(root)
    raise RuntimeError("fragnetd.8 not installed")


def run(args):
    c = Checks()
    dest, mandir = install(args.build)
    try:
        pages = {}
        for sec in sorted(os.listdir(mandir)):
            for f in sorted(os.listdir(os.path.join(mandir, sec))):
                pages[f] = os.path.join(mandir, sec, f)
        aliases = {}
        for f, p in pages.items():
            first = open(p).readline()
            if first.startswith(".so "):
                aliases[f] = first.split()[1]
        texts = {}
        for f, p in sorted(pages.items()):
            if f in aliases:
                continue
            text, warnings = render(p)
            texts[f] = text
            c.check(f"{f} renders without warnings", text.strip() and not warnings, warnings)
        c.check("the pages of the programs and the configuration are installed",
                {"fragnetd.8", "fragnetd.conf.5", "fragnetctl.8", "fragnet-eval.1",
                 "libfragnet.3"} <= set(texts), sorted(texts))

        for exe, page in ((args.fragnetd, "fragnetd.8"), (args.fragnetctl, "fragnetctl.8"),
                          (args.fragnet_eval, "fragnet-eval.1")):
            r = subprocess.run([exe, "--help"], capture_output=True, text=True)
            helped = options(section(r.stdout, "OPTIONS"))
            paged = options(section(texts.get(page, ""), "OPTIONS"))
            c.check(f"{page}: OPTIONS are --help's ({len(helped)})",
                    r.returncode == 0 and len(helped) >= 4 and helped == paged,
                    f"only in --help: {sorted(helped - paged)}, "
                    f"only in the page: {sorted(paged - helped)}")

        keys, fields = config_keys(args.config_c)
        c.check("config.c: its key tables are found", len(keys) >= 10 and len(fields) >= 3,
                (keys, fields))
        tags = set(page_tags(pages["fragnetd.conf.5"], "KEYS"))
        want = keys | {f"app.NAME.{f}" for f in fields}
        c.check(f"fragnetd.conf(5) describes every key of config.c ({len(want)}), no other",
                tags == want, f"undocumented: {sorted(want - tags)}, "
                f"not in config.c: {sorted(tags - want)}")

        header = open(args.header).read()
        funcs = set(re.findall(r"\b(fragnet_[a-z0-9_]+)\(", header))
        c.check("fragnet.h declares functions", len(funcs) >= 20, funcs)
        missing, unnamed = [], []
        for fn in sorted(funcs):
            page = f"{fn}.3"
            if page not in pages:
                missing.append(fn)
                continue
            target = os.path.basename(aliases.get(page, page))
            name = section(texts.get(target, ""), "NAME")
            if not re.search(rf"\b{fn}\b", " ".join(name)):
                unnamed.append((fn, target))
        c.check(f"every function of fragnet.h ({len(funcs)}) has a page or an alias",
                not missing, missing)
        c.check("... whose NAME section names it", not unnamed, unnamed)
        stale = [a for a in aliases if a[:-2] not in funcs]
        c.check("every alias page is a function of fragnet.h", not stale, stale)
        broken = [(a, t) for a, t in aliases.items()
                  if not os.path.exists(os.path.join(mandir, t))]
        c.check("every alias points at an installed page", not broken, broken)
        if aliases:
            a = sorted(aliases)[0]
            text, warnings = render(pages[a], cwd=mandir)
            c.check(f"man -l of an alias ({a}) shows its group's page",
                    "SYNOPSIS" in text and not warnings, warnings)
    finally:
        subprocess.run(["rm", "-rf", dest])
    return c.summary()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--build", required=True)
    p.add_argument("--config-c", required=True)
    p.add_argument("--header", required=True)
    p.add_argument("--fragnetd", required=True)
    p.add_argument("--fragnetctl", required=True)
    p.add_argument("--fragnet-eval", required=True)
    sys.exit(main(p, run, root=False))
