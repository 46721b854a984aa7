// Package openapi holds the contract test of taskhttp's OpenAPI document:
// every exchange the handlers' tests record
// (taskcreate/taskhttp/testdata/exchanges.json) is validated against it
// with kin-openapi, the request accepted by the document exactly when the
// handler answered 200, but for the exceptions the test lists, and every
// response valid. Its client package is generated from the document by
// oapi-codegen; the example server's test uses it (examples/server).
package openapi
