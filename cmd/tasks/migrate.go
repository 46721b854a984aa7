package main

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
)

var migrateHelp = help{synopsis: "migrate [-dry-run] [flags]", text: `Applies the embedded migrations the database lacks, in one transaction that
concurrent migrators queue on, and prints each one it lacked ("applied NAME":
by this process, or by one it waited for) and the schema version. It is
idempotent: a deploy step may run it every time. With -dry-run it prints the
schema version and the pending migrations ("pending NAME"), and writes
nothing.`}

// migrate is the migrate subcommand.
func migrate(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("migrate")
	config := addStoreFlags(flags)
	dryRun := flags.Bool("dry-run", false, "list the pending migrations and write nothing")
	if _, err := parseStoreFlags(flags, args, p, migrateHelp, config, 0); err != nil {
		return err
	}
	return onSchema(*config, *dryRun, func(s schemaStore) error {
		if *dryRun {
			v, err := s.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			pending, err := s.PendingMigrations(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(p.stdout, "schema version %d\n", v)
			for _, name := range pending {
				fmt.Fprintf(p.stdout, "pending %s\n", name)
			}
			return nil
		}
		pending, err := s.PendingMigrations(ctx)
		if err == nil {
			err = s.Migrate(ctx)
		}
		if err != nil {
			return err
		}
		// What was pending is now applied: by this process, or by a
		// concurrent migrator that Migrate waited for.
		for _, name := range pending {
			fmt.Fprintf(p.stdout, "applied %s\n", name)
		}
		v, err := s.SchemaVersion(ctx)
		fmt.Fprintf(p.stdout, "schema version %d\n", v)
		return err
	})
}

var versionHelp = help{synopsis: "version [flags]", text: `Prints the version of the command's module and of the library it was built
with ("(devel)" when built from a checkout), and the schema version of the
store: the latest migration applied, 0 for a database never migrated. It
writes nothing.`}

// version is the version subcommand.
func version(ctx context.Context, p process, args []string) error {
	flags := newFlagSet("version")
	config := addStoreFlags(flags)
	if _, err := parseStoreFlags(flags, args, p, versionHelp, config, 0); err != nil {
		return err
	}
	for _, m := range modules() {
		fmt.Fprintln(p.stdout, m)
	}
	return onSchema(*config, true, func(s schemaStore) error {
		v, err := s.SchemaVersion(ctx)
		if err != nil {
			return err
		}
		// With the version read, PendingMigrations fails only for a
		// schema newer than this build: that is worth printing.
		switch pending, err := s.PendingMigrations(ctx); {
		case err != nil:
			fmt.Fprintf(p.stdout, "schema version %d (%v)\n", v, err)
		case len(pending) > 0:
			fmt.Fprintf(p.stdout, "schema version %d (pending: %s; run tasks migrate)\n", v, strings.Join(pending, ", "))
		default:
			fmt.Fprintf(p.stdout, "schema version %d\n", v)
		}
		return nil
	})
}

// libraryPath is the library's module, whose version holds the migrations.
const libraryPath = "github.com/actionvector/tasks"

// modules returns "path version" of the command's module and of the
// library, as the build recorded them; "(devel)" for a module built from
// a checkout.
func modules() []string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return []string{"tasks (devel)"}
	}
	versionOf := func(v string) string {
		if v == "" {
			return "(devel)"
		}
		return v
	}
	lines := []string{info.Main.Path + " " + versionOf(info.Main.Version)}
	for _, d := range info.Deps {
		if d.Path == libraryPath {
			lines = append(lines, d.Path+" "+versionOf(d.Version))
		}
	}
	return lines
}
