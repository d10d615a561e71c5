/* escape.h - write untrusted bytes (process names, file contents) safely.
 *
 * Process names come from whoever started the process: they may hold
 * quotes, backslashes, control characters, newlines and invalid UTF-8.
 * Both writers accept any bytes and never emit a raw control character.
 */
#ifndef PROCLAB_ESCAPE_H
#define PROCLAB_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* A JSON string, quotes included.  Valid UTF-8 passes through; each byte of
 * an invalid sequence becomes U+FFFD; control characters are escaped. */
void json_put_string(FILE *f, const char *s, size_t len);

/* For a terminal: printable text and valid UTF-8 as they are; '\\', control
 * characters and invalid bytes as C escapes (\n, \t, \\, \xNN). */
void text_put_string(FILE *f, const char *s, size_t len);

/* A word the user typed, for a one-line message: control characters,
 * backslashes and bytes outside ASCII as C escapes (vis(3): \n, \t, \033),
 * so that "\033[2J" or a newline in an argument cannot act on the terminal
 * or split the line.  Returns a string to free(), or NULL without memory. */
char *escape_word(const char *word);

/* The length of the valid UTF-8 sequence at s (1..4), or 0 if the bytes at
 * s do not start one (overlong forms and surrogates are invalid). */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

#endif
