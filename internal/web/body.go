package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"
)

// BodyError is why [ReadJSONBody] refused a body: Status is 413 for one over
// the limit, 400 for one that is not UTF-8.
type BodyError struct {
	Status int
	Msg    string
}

func (e *BodyError) Error() string { return e.Msg }

// ReadJSONBody reads a JSON request body of at most limit bytes. JSON text
// must be UTF-8 (RFC 8259 §8.1); Go's decoder would silently replace invalid
// bytes with U+FFFD, storing something the client never sent, so such a body
// is refused. A body over the limit is 413 (RFC 9110 §15.5.14), not 400.
func ReadJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &BodyError{Status: http.StatusRequestEntityTooLarge, Msg: fmt.Sprintf("the body is larger than %d bytes", limit)}
	case err != nil:
		return nil, &BodyError{Status: http.StatusBadRequest, Msg: "the body could not be read"}
	case !utf8.Valid(b):
		return nil, &BodyError{Status: http.StatusBadRequest, Msg: "the body is not valid UTF-8"}
	}
	return b, nil
}
