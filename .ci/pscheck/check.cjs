// Syntax check of PowerShell scripts with tree-sitter-powershell (WebAssembly, from npm;
// versions pinned in package-lock.json beside this file):
//   NODE_PATH=.../node_modules node check.cjs FILE.ps1...
// Exit 1 when a file has a syntax error, naming each ERROR or MISSING node by line and column.
// A parse, not PowerShell's own parser (Debian has no pwsh): it catches unbalanced braces,
// quotes and parentheses, broken here-strings and malformed statements, not unknown
// cmdlets, parameters or types.
//
// Each file is parsed in a child process that prints its findings as one JSON line and
// then kills itself: once web-tree-sitter has parsed a file with errors, node never exits.
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

if (process.argv[2] === '--child') {
  const { Parser, Language } = require('web-tree-sitter');
  (async () => {
    await Parser.init();
    const lang = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
    const parser = new Parser();
    parser.setLanguage(lang);
    const file = process.argv[3];
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const problems = [];
    const walk = (n) => {
      if (n.type === 'ERROR' || n.isMissing) {
        problems.push(`${file}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ` +
          (n.isMissing ? `missing ${n.type}` : `syntax error near ${JSON.stringify(n.text.slice(0, 40))}`));
        if (n.type === 'ERROR') return;
      }
      for (let i = 0; i < n.childCount; i++) walk(n.child(i));
    };
    walk(tree.rootNode);
    fs.writeSync(1, JSON.stringify({ problems, nodes: tree.rootNode.descendantCount }) + '\n');
    process.kill(process.pid, 'SIGKILL');
  })().catch((e) => { fs.writeSync(2, String(e.stack || e) + '\n'); process.kill(process.pid, 'SIGKILL'); });
} else {
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const child = spawnSync(process.execPath, [__filename, '--child', file], { encoding: 'utf8', timeout: 120000 });
    let result;
    try { result = JSON.parse(child.stdout.trim().split('\n').pop()); } catch (e) {
      console.log(`${file}: the parser gave no answer: ${child.stderr || child.error || e}`);
      bad++;
      continue;
    }
    if (result.problems.length) {
      bad++;
      console.log(result.problems.join('\n'));
    } else {
      console.log(`${path.basename(file)}: parsed, no syntax error (${result.nodes} nodes)`);
    }
  }
  process.exit(bad ? 1 : 0);
}
