package authz

import (
	"strconv"
	"strings"

	qrcode "github.com/skip2/go-qrcode"
)

// qrView is a QR code drawn as one SVG path, made here so that no
// external service ever sees a TOTP secret.
type qrView struct {
	// Size is the side in modules (border included); Path the dark ones.
	Size int
	Path string
}

// qrOf encodes s (an otpauth URI) at error-correction level M; nil if it
// does not fit a QR code.
func qrOf(s string) *qrView {
	q, err := qrcode.New(s, qrcode.Medium)
	if err != nil {
		return nil
	}
	bm := q.Bitmap()
	var d strings.Builder
	for y, row := range bm {
		for x, dark := range row {
			if dark {
				d.WriteString("M" + strconv.Itoa(x) + " " + strconv.Itoa(y) + "h1v1h-1z")
			}
		}
	}
	return &qrView{Size: len(bm), Path: d.String()}
}
