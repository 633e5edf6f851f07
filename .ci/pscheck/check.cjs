// Syntax check of PowerShell scripts with tree-sitter-powershell (WebAssembly, from npm):
//   node check.cjs FILE.ps1...
// Exit 1 when a file has a syntax error, naming each ERROR or MISSING node by line and column.
// A parse, not PowerShell's own parser: it catches unbalanced braces, quotes and
// parentheses, broken here-strings and malformed statements, not unknown cmdlets or types.
const { Parser, Language } = require('web-tree-sitter');
const fs = require('fs');
const path = require('path');

(async () => {
  await Parser.init();
  const wasm = require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm');
  const lang = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(lang);
  let bad = 0;
  for (const file of process.argv.slice(2)) {
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const problems = [];
    const walk = (n) => {
      if (n.type === 'ERROR' || n.isMissing) {
        problems.push(`${file}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${n.isMissing ? 'missing ' + n.type : 'syntax error near ' + JSON.stringify(n.text.slice(0, 40))}`);
        if (n.type === 'ERROR') return;
      }
      for (let i = 0; i < n.childCount; i++) walk(n.child(i));
    };
    walk(tree.rootNode);
    if (problems.length) { bad++; console.log(problems.join('\n')); } else { console.log(`${path.basename(file)}: parsed, no syntax error (${tree.rootNode.descendantCount} nodes)`); }
  }
  process.reallyExit(bad ? 1 : 0); // process.exit hangs once the WebAssembly parser has met an error
})().catch((e) => { console.error(e); process.exit(2); });
