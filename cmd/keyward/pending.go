package main

import "context"

func (m *Main) apikeys(ctx context.Context, args []string) error {
	return usagef("apikeys: not wired yet")
}

func (m *Main) keys(ctx context.Context, args []string) error {
	return usagef("keys: not wired yet")
}
