package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeReplay returns the local replay of the README's "Operate it", the
// first sh block after its "Replay" paragraph, and the output the README
// shows for it, the block that follows.
func readmeReplay(t *testing.T, root string) (script, output string) {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## Operate it\n")
	require.True(t, ok, "README.md has no Operate it section")
	_, replay, ok := strings.Cut(section, "\nReplay")
	require.True(t, ok, "the Operate it section has no Replay paragraph")
	_, rest, ok := strings.Cut(replay, "```sh\n")
	require.True(t, ok, "no sh block after Replay")
	script, rest, ok = strings.Cut(rest, "```\n")
	require.True(t, ok, "the replay's sh block does not end")
	_, rest, ok = strings.Cut(rest, "```\n")
	require.True(t, ok, "no output block after the replay")
	output, _, ok = strings.Cut(rest, "```\n")
	require.True(t, ok, "the replay's output block does not end")
	return script, output
}

// The replay builds the command as a user does, loads the export and
// previews the saved request; the binary it built then reports its
// version and refuses a bad request with exit 2.
func TestReplayAsTheREADMEWritesIt(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	replayScript, replayOutput := readmeReplay(t, root)
	tmp := t.TempDir()
	sh := exec.CommandContext(t.Context(), "sh", "-e", "-c", replayScript)
	sh.Dir = root
	// The script's own variables only: none of the host's TASKS_ ones, nor
	// DATABASE_URL, which would point the command elsewhere.
	sh.Env = append(withoutTasksVars(os.Environ()), "TMPDIR="+tmp, "PATH="+filepath.Dir(goCommand(t))+string(os.PathListSeparator)+os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	sh.Stdout, sh.Stderr = &stdout, &stderr
	require.NoError(t, sh.Run(), "the replay failed; stderr:\n%s", stderr.String())

	// The export has six rows; the request's 4 pairs in 2 domains are 8
	// candidates. Restock, read at the latest date, 2026-11-27: variant 1
	// (0.91, 24 units) and variant 2 (0.78, 10 units) would be created,
	// variant 3 (0.41 < 0.6) is suppressed, variant 4 (0 units) skipped.
	// Markdown: only variant 2 has one (15%, 0.83), the other 3 are
	// unmatched.
	want := "loaded 6 action vectors in 1 batch\n" +
		`{"success":true,"data":{"created":3,"updated":0,"suppressed":1,"skipped":1,"unmatched":3,` +
		`"successCode":"WORKFLOW_TASKS_PREVIEWED","workflowRunId":"workflow-run-uuid-abc123"}}` + "\n"
	assert.Equal(t, want, stdout.String())
	assert.Equal(t, want, replayOutput, "the output README.md shows")
	assert.Empty(t, stderr.String())

	bins, err := filepath.Glob(filepath.Join(tmp, "*", "tasks"))
	require.NoError(t, err)
	require.Len(t, bins, 1, "the binary the replay built")
	db := "TASKS_DB=" + filepath.Join(filepath.Dir(bins[0]), "replay.db")

	version := exec.CommandContext(t.Context(), bins[0], "version")
	version.Env = append(withoutTasksVars(os.Environ()), db)
	out, err := version.Output()
	require.NoError(t, err)
	assert.Regexp(t, `^github.com/actionvector/tasks/cmd/tasks \(devel\)\n(.*\n)?schema version [1-9][0-9]*\n$`, string(out),
		"a build from a checkout is (devel), and the replay migrated the database")

	invalid := exec.CommandContext(t.Context(), bins[0], "create", "-")
	invalid.Env = version.Env
	invalid.Stdin = strings.NewReader(`{"organizationId":"o"}`)
	out, err = invalid.Output()
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "want an exit status, got %v", err)
	assert.Equal(t, exitInvalid, exit.ExitCode())
	assert.Contains(t, string(out), `"errorCode":"MISSING_REQUIRED_FIELD"`)
	assert.Contains(t, string(exit.Stderr), "tasks create: taskcreate: invalid request")
}

// withoutTasksVars returns environ without the variables the command
// reads.
func withoutTasksVars(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "TASKS_") && !strings.HasPrefix(kv, databaseURLEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}
