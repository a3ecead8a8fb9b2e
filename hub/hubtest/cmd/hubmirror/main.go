package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/glimpse-search/glimpse/hub/hubtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "hubmirror:", err)
		os.Exit(1)
	}
}

// Run serves until ctx ends, after writing the mirror's URL as a line to stdout.
func Run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("hubmirror", flag.ContinueOnError)
	dir := fs.String("dir", "", "folder holding OWNER/NAME repository folders (required)")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	token := fs.String("token", "", "bearer token to require (default: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("-dir is required")
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	m := hubtest.New(hubtest.Options{Listener: l, Token: *token})
	defer m.Close()
	if err := m.AddDir(*dir); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, m.URL); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
