package console

import (
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/errmsg"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// Uploading a signing key: the key file goes to signing.Service.Import, as
// with "keyward keys import", so the checks, the staging and the audit
// event (signing_key.imported, by the signed-in admin) are the same.
const (
	keyImportPath = "/console/signing-keys/import"
	// maxKeyFile bounds an uploaded key file: an RSA 4096 key in PEM or
	// JWK is under 4 KiB.
	maxKeyFile = 64 << 10
	// maxKeyUpload bounds the whole multipart body: the file and the few
	// other fields with their part headers.
	maxKeyUpload = maxKeyFile + 16<<10
)

// importForm is the import form, kept (but for the file, which a browser
// never pre-fills) when it comes back with errors.
type importForm struct {
	Alg, State string
	Errs       fieldErrors
	Algs       []string
}

// importStates are the states an imported key may start in: next (the
// recommended staging: published first, active at the next rotation),
// active (signs at once; the current key moves to retiring) or retiring.
var importStates = []signing.State{signing.StateNext, signing.StateActive, signing.StateRetiring}

// importSigningKey stores the uploaded private key (POST
// /console/signing-keys/import, multipart/form-data: key_file, alg,
// state). Every refusal is the signing-keys page with the problem beside
// its field; the key itself is never shown back.
func (cs *Server) importSigningKey(c *gin.Context) {
	r := c.Request
	f := importForm{Alg: "", State: string(signing.StateNext)}
	again := func(status int, msg string) {
		cs.renderSigning(c, status, f, msg)
	}
	if err := r.ParseMultipartForm(maxKeyUpload); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			f.Errs.add("key_file", "The file is too large: a private key file is at most 64 KiB.")
			again(http.StatusRequestEntityTooLarge, "The key was not imported.")
			return
		}
		cs.message(c, http.StatusBadRequest, "Bad request", "The upload could not be read: send the form as multipart/form-data.")
		return
	}
	defer r.MultipartForm.RemoveAll()
	if !cs.checkCSRF(c, keyImportPath) {
		cs.message(c, http.StatusForbidden, "Form expired",
			"The form was not accepted: it expired or came from another site. Go back, reload the page and try again.")
		return
	}
	pf := r.PostForm
	f.Alg, f.State = strings.TrimSpace(pf.Get("alg")), strings.TrimSpace(pf.Get("state"))
	if f.State == "" {
		f.State = string(signing.StateNext)
	}
	if f.Alg != "" && !slices.Contains(signing.DefaultAlgorithms(), f.Alg) {
		f.Errs.add("alg", "Choose ES256, RS256 or EdDSA, or let the key decide.")
		f.Alg = ""
	}
	if !slices.Contains(importStates, signing.State(f.State)) {
		f.Errs.add("state", "Choose next, active or retiring.")
		f.State = string(signing.StateNext)
	}
	data, problem := readKeyFile(r.MultipartForm)
	if problem != "" {
		f.Errs.add("key_file", problem)
	}
	if f.Errs != nil {
		again(http.StatusUnprocessableEntity, "The key was not imported.")
		return
	}
	rec, err := cs.cfg.Signing.Import(r.Context(), data, f.Alg, signing.State(f.State))
	switch {
	case errors.Is(err, signing.ErrBadKey):
		f.Errs.add("key_file", keyProblem(err))
		again(http.StatusUnprocessableEntity, "The key was not imported.")
	case errors.Is(err, store.ErrConflict):
		f.Errs.add("key_file", "A signing key with this key's kid exists already.")
		again(http.StatusConflict, "The key was not imported.")
	case err != nil:
		cs.fail(c, err)
	default:
		see(c, "/console/signing-keys?done=imported&kid="+urlQuery(rec.KID))
	}
}

// readKeyFile returns the one uploaded key file, or what is wrong with it.
func readKeyFile(mf *multipart.Form) ([]byte, string) {
	files := mf.File["key_file"]
	switch {
	case len(files) == 0 || files[0].Size == 0 && files[0].Filename == "":
		return nil, "Choose a private key file: PEM or JWK."
	case len(files) > 1:
		return nil, "Choose one file."
	case files[0].Size == 0:
		return nil, "The file is empty."
	case files[0].Size > maxKeyFile:
		return nil, "The file is too large: a private key file is at most 64 KiB."
	}
	fh, err := files[0].Open()
	if err != nil {
		return nil, "The file could not be read."
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFile+1))
	if err != nil || len(data) > maxKeyFile {
		return nil, "The file could not be read."
	}
	return data, ""
}

// keyProblem is signing.Import's refusal for people: without the error
// prefixes (the messages never quote the key material).
func keyProblem(err error) string {
	msg := strings.ReplaceAll(errmsg.Readable(err), "signing: ", "")
	if msg == "" {
		return "Not a usable private key."
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
