package client

// Regenerate client.gen.go from the admin API's OpenAPI document (after
// any change to admin/openapi.json): go generate ./admin/client
//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -config oapi-codegen.yaml ../openapi.json
