#!/usr/bin/env python3
"""Embed a text file into a C header as a string constant: embed.py IN OUT NAME."""
import sys

src, out, name = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(src, 'rb').read()
with open(out, 'w') as f:
    f.write('/* generated from %s by scripts/embed.py */\n' % src.split('/')[-1])
    f.write('static const char %s[] =\n' % name)
    for line in data.decode('utf-8').splitlines(True):
        esc = line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
        f.write('\t"%s"\n' % esc)
    f.write(';\n')
