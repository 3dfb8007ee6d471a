package dashboard

import (
	"embed"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/dashboard.css
var stylesheet []byte
