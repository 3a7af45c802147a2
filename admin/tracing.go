package admin

import (
	"github.com/gin-gonic/gin"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// traceRoute names the request's span after the API's route template
// ("GET /admin/v1/clients/:id"): the API runs on an engine of its own, so
// the server around it, which starts the span, only knows the route
// "/admin/v1/*path". Without tracing the span is not recording and
// nothing is done.
func traceRoute(c *gin.Context) {
	span := trace.SpanFromContext(c.Request.Context())
	if route := c.FullPath(); route != "" && span.IsRecording() {
		span.SetName(c.Request.Method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(route))
	}
}
