// Command mcpserver is the MCP server of docs/MCP.md: one tool, "whoami",
// served over streamable HTTP with the official Go SDK and protected by
// Keyward through authz/verify (RFC 9728 metadata, RFC 8707 audience).
// The e2e test in cmd/keyward builds and runs it, so the walkthrough's
// listing is code that works.
package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/keyward/keyward/authz/verify"
)

func main() {
	issuer := flag.String("issuer", "http://127.0.0.1:8080", "Keyward's issuer (its public URL)")
	resource := flag.String("resource", "http://127.0.0.1:3000/mcp", "this server's URL, as registered with keyward resources create")
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	flag.Parse()

	// The verifier fetches Keyward's discovery document and keys; a token
	// must be signed by Keyward and name this resource in its aud.
	v, err := verify.New(context.Background(), verify.Config{Issuer: *issuer, Audience: *resource})
	if err != nil {
		log.Fatal(err)
	}
	// RFC 9728: where clients learn which authorization server to ask.
	meta := &verify.ProtectedResourceMetadata{
		Resource:             *resource,
		AuthorizationServers: []string{*issuer},
		ScopesSupported:      []string{"tools:call"},
		ResourceName:         "Who am I",
	}

	server := mcp.NewServer(&mcp.Implementation{Name: "whoami", Version: "1.0.0"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "whoami", Description: "Says who the access token was issued to"}, whoami)
	tools := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	mux := http.NewServeMux()
	mux.Handle(meta.WellKnownPath(), meta) // /.well-known/oauth-protected-resource/mcp
	mux.Handle("/mcp", verify.Middleware(v,
		verify.WithResourceMetadata(meta), // 401s carry resource_metadata="…"; aud must be *resource
		verify.WithScopes("tools:call"),   // 403 insufficient_scope, scope="tools:call" otherwise
	)(tools))
	log.Printf("MCP server on http://%s/mcp", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

type whoamiOut struct {
	Subject  string `json:"subject"`
	ClientID string `json:"client_id"`
}

// whoami answers with the verified token's subject and client: the
// middleware put its claims in the request's context.
func whoami(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOut, error) {
	c := verify.ClaimsFromContext(ctx)
	if c == nil {
		return nil, whoamiOut{}, errors.New("no verified token")
	}
	return nil, whoamiOut{Subject: c.Subject, ClientID: c.ClientID}, nil
}
