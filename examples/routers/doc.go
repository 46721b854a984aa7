// Package routers mounts the task-create endpoint (taskhttp.Path) and the
// sweep endpoint (taskhttp.SweepPath) on net/http's ServeMux, chi, gin and
// echo, and makes each router's own 404 and 405 answers taskhttp's JSON
// envelope, so that a client reads every answer the same way. Each Mount
// function returns the router it was given, ready to serve:
//
//	create, _ := taskhttp.NewHandler(svc, opts)
//	sweep, _ := taskhttp.NewSweepHandler(svc, opts)
//
//	mux := http.NewServeMux()
//	routers.MountServeMux(mux, create, sweep) // the endpoints' paths for every method, and "/"
//
//	r := chi.NewRouter()
//	routers.MountChi(r, create, sweep) // r.Method("POST", ...), r.NotFound, r.MethodNotAllowed
//
//	engine := gin.New()
//	routers.MountGin(engine, create, sweep) // engine.POST, NoRoute, NoMethod, HandleMethodNotAllowed
//
//	e := echo.New()
//	routers.MountEcho(e, create, sweep) // e.POST, and an HTTPErrorHandler around e's own
//
//	http.ListenAndServe(":8080", routers.MountChi(chi.NewRouter(), create, sweep))
//
// The 404 and 405 handlers are the router's, so the router's other routes
// answer them in the envelope too. A 405 keeps the router's list of the
// path's methods in Allow ("POST" for the endpoints; echo lists "OPTIONS,
// POST", since it answers OPTIONS itself with a 204). The answers of the
// endpoints are the same, byte for byte, on the four routers, but for
// redirects the routers make themselves: ServeMux's to a clean path (a "//"
// or ".." in it) and gin's to the path without a trailing slash
// (RedirectTrailingSlash; set it false for a 404 instead).
package routers
