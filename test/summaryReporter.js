// Prints one plain closing line, `jest: N passed, N failed[, N skipped]`, so
// CI logs state the count in a form any reader understands.
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const line = `${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`\njest: ${line}\n`);
  }
}

module.exports = SummaryReporter;
