package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// UsageError marks a command-line mistake (exit status 2).
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, a ...any) error {
	return &UsageError{Err: fmt.Errorf(format, a...)}
}

// RunFunc runs a program or a subcommand on its arguments (without the name).
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs the program named prog until it returns or SIGINT/SIGTERM cancels its context,
// prints an error as one line "prog: message" (the prefix once, also when the message
// begins with it) and exits with status 2 for a UsageError, 1 for another error.
func Main(prog string, run RunFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, ErrorLine(prog, err))
	var ue *UsageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	os.Exit(1)
}

// ErrorLine is the line Main prints for err: "prog: " once, then the message.
func ErrorLine(prog string, err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, prog+": ") {
		return msg
	}
	return prog + ": " + msg
}

// NewFlags returns a flag set that writes its messages to stderr and prints "usage: USAGE"
// and the flags on -h.
func NewFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fset := flag.NewFlagSet(name, flag.ContinueOnError)
	fset.SetOutput(stderr)
	fset.Usage = func() {
		fmt.Fprintln(fset.Output(), "usage:", usage)
		fset.PrintDefaults()
	}
	return fset
}

// Parse parses args, turning flag errors into usage errors (flag has printed them); -h gives
// flag.ErrHelp, which [Dispatch] treats as success.
func Parse(fset *flag.FlagSet, args []string) error {
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &UsageError{Err: err}
	}
	return nil
}

// ParseNoArgs is Parse for commands that take flags only.
func ParseNoArgs(fset *flag.FlagSet, args []string) error {
	if err := Parse(fset, args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return Usagef("%s: unexpected arguments %q", fset.Name(), fset.Args())
	}
	return nil
}

// Command is a subcommand.
type Command struct {
	Name, Usage, Summary string
	Run                  RunFunc
}

// Program is a binary with subcommands.
type Program struct {
	Name     string
	Commands []Command
	Env      []string // the environment variables it reads, listed in the help (see EnvHelp)
}

// Help is the program's help text: its commands with their usage lines, then its environment.
func (p Program) Help() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: %s <command> [flags]\n\ncommands:\n", p.Name)
	w := 0
	for _, c := range p.Commands {
		w = max(w, len(c.Name))
	}
	for _, c := range p.Commands {
		fmt.Fprintf(&b, "  %-*s  %s\n      %s\n", w, c.Name, c.Summary, c.Usage)
	}
	if len(p.Env) > 0 {
		b.WriteString("\n" + EnvHelp(p.Env...))
	}
	b.WriteString("\n`" + p.Name + " <command> -h` lists a command's flags.\n")
	return b.String()
}

func (p Program) names() string {
	names := make([]string, len(p.Commands))
	for i, c := range p.Commands {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// Dispatch runs the subcommand args[0] names; help, -h and --help print Help to stdout. A
// flag set's -h (flag.ErrHelp) is success.
func (p Program) Dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return Usagef("missing command; available commands: %s\n%s", p.names(), p.Help())
	}
	switch args[0] {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, p.Help())
		return nil
	}
	for _, c := range p.Commands {
		if c.Name == args[0] {
			err := c.Run(ctx, args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return nil
			}
			return err
		}
	}
	return Usagef("unknown command %q; available commands: %s", args[0], p.names())
}

// WarnLogger logs warnings and errors to w as text.
func WarnLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ListFlag is a repeatable flag; commas also separate values.
type ListFlag []string

func (l *ListFlag) String() string { return strings.Join(*l, ",") }

// Set adds the comma-separated values of s.
func (l *ListFlag) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*l = append(*l, v)
		}
	}
	return nil
}

// ParseArgs is Parse that also checks the number of positional arguments: at least min and at
// most max (max < 0: no limit); otherwise a usage error "NAME: want TAKES" and the usage line.
func ParseArgs(fset *flag.FlagSet, args []string, min, max int, takes, usage string) error {
	if err := Parse(fset, args); err != nil {
		return err
	}
	if n := fset.NArg(); n < min || (max >= 0 && n > max) {
		return Usagef("%s: want %s, got %q\nusage: %s", fset.Name(), takes, fset.Args(), usage)
	}
	return nil
}
