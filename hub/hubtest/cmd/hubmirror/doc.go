// Command hubmirror serves a folder of model repositories through the Hugging Face hub's and
// ModelScope's download APIs (package hubtest), for tests of other clients:
//
//	hubmirror -dir ROOT [-addr 127.0.0.1:0] [-token T]
//
// Every folder ROOT/OWNER/NAME is served as repository OWNER/NAME. The first line written to
// stdout is the endpoint URL (for HF_ENDPOINT or MODELSCOPE_ENDPOINT); it serves until
// interrupted or terminated.
package main
