/**
 * The public API is documented: every name the package's entry points export
 * has TSDoc with an example, read through TypeScript's own checker (so an
 * export re-exported from another file is followed to its declaration).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ENTRIES = ['src/index.ts', 'src/client/index.ts', 'src/backends/nats/index.ts'].map((f) => fileURLToPath(new URL(`../../${f}`, import.meta.url)));

test('public API - every export of tandem, tandem/client and tandem/cluster has TSDoc with an example', () => {
  const program = ts.createProgram(ENTRIES, {
    allowImportingTsExtensions: true, noEmit: true, strict: true, target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
  });
  const checker = program.getTypeChecker();
  const missing: string[] = [];
  let exports = 0;
  for (const entry of ENTRIES) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
    for (const exported of checker.getExportsOfModule(module)) {
      exports++;
      const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
      const documented = ts.displayPartsToString(symbol.getDocumentationComment(checker)).length > 0;
      const example = symbol.getJsDocTags(checker).some((tag) => tag.name === 'example');
      if (!documented || !example) missing.push(`${exported.name}${documented ? '' : ' (no doc)'}${example ? '' : ' (no example)'}`);
    }
  }
  assert.ok(exports > 60, `only ${exports} exports found`);
  assert.deepEqual(missing, []);
});
