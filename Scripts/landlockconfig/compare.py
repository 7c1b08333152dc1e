#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Runs landlock-exec over the test and example policies of the landlockconfig reference.

Usage: Scripts/landlockconfig/compare.py LANDLOCKCONFIG_DIR [LANDLOCK_EXEC] [-v]

LANDLOCKCONFIG_DIR is a checkout of https://github.com/landlock-lsm/landlockconfig (nothing is
downloaded). The policies are the raw-string literals of its src/tests_*.rs (with the verdict
each test expects: parsed, or refused), the names its variable-name tests generate, and the
files of examples/ and tests/composition/. Each is composed with a file that handles one
right (so that a file with only variables is judged as the reference judges it, not refused
for restricting nothing) and given to `landlock-exec --print-policy`: exit 64 is a refusal.
Prints the disagreements and the count of agreements.
"""
import json, os, re, subprocess, sys, tempfile

args = [a for a in sys.argv[1:] if not a.startswith("-")]
if not args:
    sys.exit(__doc__)
root = args[0]
LE = args[1] if len(args) > 1 else os.path.join(os.path.dirname(__file__), "../../.build/debug/landlock-exec")
out = []
for fn in sorted(os.listdir(root + '/src')):
    if not fn.endswith('.rs'): continue
    src = open(f'{root}/src/{fn}').read()
    # split into test functions
    for m in re.finditer(r'#\[test\]\s*(#\[[^\]]*\]\s*)*fn (\w+)\(\)\s*\{', src):
        name = m.group(2)
        start = m.end()
        depth = 1; i = start
        # naive brace matching skipping raw strings
        while depth and i < len(src):
            if src.startswith('r#"', i):
                j = src.index('"#', i + 3); i = j + 2; continue
            if src[i] == '"':
                j = i + 1
                while src[j] != '"':
                    j += 2 if src[j] == '\\' else 1
                i = j + 1; continue
            if src[i] == '{': depth += 1
            elif src[i] == '}': depth -= 1
            i += 1
        body = src[start:i-1]
        should_panic = 'should_panic' in (m.group(1) or '')
        lits = {}
        for lm in re.finditer(r'let (\w+) = r#"(.*?)"#;', body, re.S):
            lits[lm.group(1)] = lm.group(2)
        stmts = body.split(';')
        for var, text in lits.items():
            for st in stmts:
                for kind in ('json', 'toml'):
                    pat = rf'parse_{kind}(_schema)?\(\s*{var}\b'
                    if re.search(pat, st):
                        err = bool(re.search(r'is_err\(\)|Err\(|unwrap_err', st)) or should_panic
                        out.append(dict(test=f'{fn}:{name}', var=var, format=kind, text=text, expect='error' if err else 'ok'))
                        break
            if re.search(rf'get_composition\(\s*{var}\b|get_composition\(\s*\w+\s*,\s*{var}\b', body):
                out.append(dict(test=f'{fn}:{name}', var=var, format='json', text=text, expect='ok'))
# dedupe by (test,var)
seen=set(); res=[]
for o in out:
    k=(o['test'],o['var'],o['format'])
    if k in seen: continue
    seen.add(k); res.append(o)
for d in ('examples', 'tests/composition', 'tests/composition/source'):
    for f in sorted(os.listdir(f'{root}/{d}')):
        p=f'{root}/{d}/{f}'
        if f.endswith('.toml') or f.endswith('.json'):
            res.append(dict(test=f'{d}/{f}', var='file', format=f.rsplit('.',1)[1], text=open(p).read(), expect='ok'))
policies = res
policies.append(dict(test='tests_parser.rs:test_json_schema', var='test_json', format='json', text='{"ruleset": 0}', expect='error'))
policies.append(dict(test='tests_parser.rs:test_empty_config_toml', var='toml', format='toml', text='', expect='error'))

def decl(n): return '{"variable": [{"name": %s, "literal": ["value"]}]}' % json.dumps(n)
def use(n): return '{"pathBeneath": [{"allowedAccess": ["execute"], "parent": [%s]}]}' % json.dumps("${" + n + "}")
for n in ["1foo", "_foo", "\u00c0", "e\u20ac", " foo", "foo bar", "foo ", "foo-bar", "foo_\u00e7\u00eb"]:
    policies.append(dict(test='tests_variable.rs:test_variable_name_invalid', var=n, format='json', text=decl(n), expect='error'))
    policies.append(dict(test='tests_variable.rs:test_variable_name_invalid(use)', var=n, format='json', text=use(n), expect='error'))
for n in ["F", "FOO", "Foo", "f", "fOo", "foo", "foo_", "foo__bar", "foo_bar", "a"]:
    policies.append(dict(test='tests_variable.rs:test_variable_name_valid', var=n, format='json', text=decl(n), expect='ok'))
work = tempfile.mkdtemp()
base = f'{work}/base.toml'
open(base, 'w').write('[[ruleset]]\nhandled_access_fs = ["execute"]\n')
agree = 0; rows = []
for i, p in enumerate(policies):
    path = f"{work}/p{i}.{p['format']}"
    open(path, 'w').write(p['text'])
    r = subprocess.run([LE, '--config', base, '--config', path, '--print-policy'], capture_output=True, text=True, cwd=work)
    ours = 'error' if r.returncode == 64 else 'ok'
    ok = ours == p['expect']
    agree += ok
    if not ok or '-v' in sys.argv:
        rows.append(f"{'AGREE' if ok else 'DIFFER'} {p['test']} {p['var']} ({p['format']}): reference {p['expect']}, ours {ours} rc={r.returncode}: {r.stderr.strip()[:300]}")
print('\n'.join(rows))
print(f"{agree}/{len(policies)} agree")
