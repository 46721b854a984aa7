package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Environment variables read besides the flags' own.
const (
	tokenEnv       = "TASKS_INTERNAL_TOKEN" // serve's bearer token: never a flag, which ps would show
	databaseURLEnv = "DATABASE_URL"         // the usual name, after TASKS_DATABASE_URL
)

// help is what a command's -h says besides its flags.
type help struct {
	synopsis string // after "usage: tasks "
	text     string // what the command does, wrapped
}

// newFlagSet returns an empty flag set for the command name, which prints
// nothing itself: parseFlags does.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// envNames returns the environment variables flag name falls back to, in
// the order they are read.
func envNames(name string) []string {
	names := []string{"TASKS_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))}
	if name == "database-url" {
		names = append(names, databaseURLEnv)
	}
	return names
}

// parseFlags parses args into fs, then sets every flag args did not give
// from its environment variables, and returns the arguments after the
// flags. With -h it prints h and fs's flags on standard output and returns
// flag.ErrHelp; a bad flag or variable is an invalidInput error.
func parseFlags(fs *flag.FlagSet, args []string, p process, h help) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(p.stdout, fs, h)
			return nil, err
		}
		return nil, invalidf("%w (tasks %s -h lists the flags)", err, fs.Name())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var bad error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || bad != nil {
			return
		}
		for _, name := range envNames(f.Name) {
			v := p.getenv(name)
			if v == "" {
				continue
			}
			if err := f.Value.Set(v); err != nil {
				bad = invalidf("environment variable %s (for -%s): invalid value %q: %v", name, f.Name, v, err)
			}
			return
		}
	})
	return fs.Args(), bad
}

// printHelp prints the usage of a command: h, its flags with their
// variables, and what every usage ends with.
func printHelp(w io.Writer, fs *flag.FlagSet, h help) {
	fmt.Fprintf(w, "usage: tasks %s\n\n%s\n\nflags:\n", h.synopsis, h.text)
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(w, "  -%s", f.Name)
		if kind != "" {
			fmt.Fprintf(w, " %s", kind)
		}
		fmt.Fprintf(w, "\n    \t%s", strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintf(w, " [$%s]\n", strings.Join(envNames(f.Name), ", $"))
	})
	fmt.Fprintf(w, "\n%s\n\n%s\n", environmentHelp, exitHelp)
}
