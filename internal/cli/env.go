package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/glimpse-search/glimpse/library"
	"github.com/glimpse-search/glimpse/models"
)

// The environment variables the binaries read; nothing below cmd/ reads any.
const (
	EnvData         = "GLIMPSE_DATA"           // the data dir when --data is not given
	EnvORTLib       = "GLIMPSE_ORT_LIB"        // path of libonnxruntime.so.1
	EnvAPIKey       = "GLIMPSE_API_KEY"        // the key for handing jobs to a running server
	EnvStore        = "GLIMPSE_STORE"          // default --store
	EnvStoreKeyFile = "GLIMPSE_STORE_KEY_FILE" // default --store-key-file
	EnvModel        = "GLIMPSE_MODEL"          // default --model
	EnvModels       = "GLIMPSE_MODELS"         // the store of installed models
	EnvPython       = "GLIMPSE_PYTHON"         // the exporters' Python (models pull)

	// The hubs' own variables, which their client libraries read too (models pull).
	EnvHFEndpoint         = "HF_ENDPOINT"
	EnvHFToken            = "HF_TOKEN"
	EnvModelScopeEndpoint = "MODELSCOPE_ENDPOINT"
)

// envHelp is each variable's line in the help texts.
var envHelp = map[string]string{
	EnvData:               "default data dir (else ./" + library.DefaultDir + ")",
	EnvORTLib:             "path of libonnxruntime.so.1 (default: the `make setup` cache, then the system's)",
	EnvAPIKey:             "API key for handing jobs to a running server (else --api-key-file)",
	EnvStore:              "default --store: where the image vectors live (embedded, or weaviate://HOST:PORT...)",
	EnvStoreKeyFile:       "default --store-key-file: the file holding the vector backend's API key",
	EnvModel:              "default --model: an installed model's name or a bundle folder (else the embedded " + models.DefaultName + ")",
	EnvModels:             "where `models pull` installs models (else glimpse/models in the user's cache folder)",
	EnvPython:             "the Python of the exporters' environment (else the one `make venv` builds)",
	EnvHFEndpoint:         "the Hugging Face hub's URL (a mirror; else https://huggingface.co)",
	EnvHFToken:            "a Hugging Face access token, sent to the hub only (gated or private repositories)",
	EnvModelScopeEndpoint: "the ModelScope hub's URL (a mirror; else https://www.modelscope.cn)",
}

// EnvHelp is the "environment:" section of a help text for the given variables.
func EnvHelp(names ...string) string {
	w := 0
	for _, n := range names {
		w = max(w, len(n))
	}
	var b strings.Builder
	b.WriteString("environment:\n")
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", w, n, envHelp[n])
	}
	return b.String()
}

// DataDir is the data dir a binary uses: flag when given, else $GLIMPSE_DATA, else
// library.DefaultDir.
func DataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if d := os.Getenv(EnvData); d != "" {
		return d
	}
	return library.DefaultDir
}

// DataFlagHelp is the help of a --data flag; what says what the dir is for.
func DataFlagHelp(what string) string {
	return what + " (default $" + EnvData + ", else ./" + library.DefaultDir + ")"
}

// DataFlag registers --data, defaulting to DataDir("") (so $GLIMPSE_DATA when set); what says
// what the dir is for.
func DataFlag(fset *flag.FlagSet, what string) *string {
	return fset.String("data", DataDir(""), DataFlagHelp(what))
}
