package routers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/go-chi/chi/v5"
	"github.com/labstack/echo/v4"

	"github.com/actionvector/tasks/taskcreate/taskhttp"
)

// MountServeMux mounts create at taskhttp.Path and sweep at
// taskhttp.SweepPath on mux, and answers every other path with the envelope's
// 404 from a "/" pattern, which mux must not have already.
//
// The endpoints are registered for every method, not with "POST " patterns:
// ServeMux would answer the other methods itself, in text/plain, while the
// handlers answer them with the envelope's 405 (Allow: POST). The "/" pattern
// matches every method, so the mux's own 405 for a method-specific pattern of
// its other routes becomes this 404.
func MountServeMux(mux *http.ServeMux, create, sweep http.Handler) *http.ServeMux {
	for path, h := range endpoints(create, sweep) {
		mux.Handle(path, h)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		taskhttp.WriteError(w, taskhttp.ErrNotFound)
	})
	return mux
}

// MountChi mounts create at taskhttp.Path and sweep at taskhttp.SweepPath on
// r, for POST, and sets r's NotFound and MethodNotAllowed handlers to answer
// in the envelope.
func MountChi(r chi.Router, create, sweep http.Handler) chi.Router {
	for path, h := range endpoints(create, sweep) {
		r.Method(http.MethodPost, path, h)
	}
	r.NotFound(func(w http.ResponseWriter, _ *http.Request) {
		taskhttp.WriteError(w, taskhttp.ErrNotFound)
	})
	r.MethodNotAllowed(chiMethodNotAllowed)
	return r
}

// chiMethodNotAllowed answers chi's 405. chi does not hand a custom handler
// the methods it found for the path, so they are looked up again. chi also
// answers 405 to a method it does not know, on any path: with no method for
// the path, that is a 404.
func chiMethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	allow := chiAllow(r)
	if allow == "" {
		taskhttp.WriteError(w, taskhttp.ErrNotFound)
		return
	}
	writeMethodNotAllowed(w, allow)
}

var chiMethods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
	http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace,
}

// chiAllow returns the methods the router that routed r serves at r's path.
func chiAllow(r *http.Request) string {
	rctx := chi.RouteContext(r.Context())
	if rctx == nil || rctx.Routes == nil {
		return ""
	}
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	var allow []string
	for _, m := range chiMethods {
		if rctx.Routes.Match(chi.NewRouteContext(), m, path) {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

// MountGin mounts create at taskhttp.Path and sweep at taskhttp.SweepPath on
// engine, for POST, turns on engine.HandleMethodNotAllowed and replaces its
// NoRoute and NoMethod handlers with the envelope's 404 and 405.
func MountGin(engine *gin.Engine, create, sweep http.Handler) *gin.Engine {
	for path, h := range endpoints(create, sweep) {
		engine.POST(path, gin.WrapH(h))
	}
	engine.HandleMethodNotAllowed = true
	engine.NoRoute(func(c *gin.Context) {
		taskhttp.WriteError(c.Writer, taskhttp.ErrNotFound)
	})
	engine.NoMethod(func(c *gin.Context) {
		// gin has set Allow to the path's methods.
		writeMethodNotAllowed(c.Writer, c.Writer.Header().Get("Allow"))
	})
	return engine
}

// MountEcho mounts create at taskhttp.Path and sweep at taskhttp.SweepPath on
// e, for POST, and wraps e.HTTPErrorHandler so that echo.ErrNotFound and
// echo.ErrMethodNotAllowed, the errors of echo's router, are answered in the
// envelope (so is a handler's own return of them). Every other error is left to the handler e had (echo's
// DefaultHTTPErrorHandler unless replaced): the endpoints never return one,
// and e's other routes keep their own answers. Set a replacement before
// calling MountEcho, not after.
func MountEcho(e *echo.Echo, create, sweep http.Handler) *echo.Echo {
	for path, h := range endpoints(create, sweep) {
		e.POST(path, echo.WrapHandler(h))
	}
	next := e.HTTPErrorHandler
	if next == nil {
		next = e.DefaultHTTPErrorHandler
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		switch {
		case errors.Is(err, echo.ErrNotFound):
			taskhttp.WriteError(c.Response(), taskhttp.ErrNotFound)
		case errors.Is(err, echo.ErrMethodNotAllowed):
			// echo's router has set Allow to the path's methods.
			writeMethodNotAllowed(c.Response(), c.Response().Header().Get(echo.HeaderAllow))
		default:
			next(err, c)
		}
	}
	return e
}

// writeMethodNotAllowed answers a router's own 405 with taskhttp.WriteError,
// with allow, the router's list of the path's methods, in the Allow header
// instead of WriteError's "POST" (right for the endpoints, not for the
// router's other routes). An empty allow leaves WriteError's.
func writeMethodNotAllowed(w http.ResponseWriter, allow string) {
	if allow == "" {
		taskhttp.WriteError(w, taskhttp.ErrMethodNotAllowed)
		return
	}
	taskhttp.WriteError(allowWriter{w, allow}, taskhttp.ErrMethodNotAllowed)
}

// allowWriter sets Allow as the header is written, after WriteError has set
// its own.
type allowWriter struct {
	http.ResponseWriter
	allow string
}

func (w allowWriter) WriteHeader(status int) {
	w.Header().Set("Allow", w.allow)
	w.ResponseWriter.WriteHeader(status)
}

func (w allowWriter) Write(p []byte) (int, error) {
	w.Header().Set("Allow", w.allow) // no-op once the header is written
	return w.ResponseWriter.Write(p)
}

// endpoints pairs the path of each endpoint with its handler.
func endpoints(create, sweep http.Handler) map[string]http.Handler {
	return map[string]http.Handler{taskhttp.Path: create, taskhttp.SweepPath: sweep}
}
