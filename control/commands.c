// SPDX-License-Identifier: MIT
/*
 * The control socket's command table and request dispatcher (see
 * commands.h; protocol in control.h). The socket, its thread and the
 * public control object are server.c's.
 *
 * This file knows nothing of the VM; the commands that call into vm.c live
 * in vmm/commands.c so that the unit tests link without a VM.
 */
#include "control/commands.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json/json.h"

struct command {
	char *name;
	char *help;
	control_handler_fn *fn;
	void *opaque;
};

struct control_commands {
	struct vm *vm;
	pthread_mutex_t lock; /* guards the table */
	struct command *commands;
	size_t nr_commands;
	/* Set by a handler, run after its reply; control thread only. */
	void (*deferred_fn)(void *arg);
	void *deferred_arg;
};

static const struct json_value empty_object = { .type = JSON_OBJECT };

/* --- command table ------------------------------------------------------ */

/* Appends cmd unless its name is taken; called with c->lock held. */
static int add_command(struct control_commands *c, const struct command *cmd)
{
	struct command *cmds;

	for (size_t i = 0; i < c->nr_commands; i++)
		if (!strcmp(c->commands[i].name, cmd->name))
			return -EEXIST;
	cmds = realloc(c->commands, (c->nr_commands + 1) * sizeof(*cmds));
	if (!cmds)
		return -ENOMEM;
	cmds[c->nr_commands++] = *cmd;
	c->commands = cmds;
	return 0;
}

int control_commands_add(struct control_commands *c, const char *name,
			 const char *help, control_handler_fn *fn, void *opaque)
{
	struct command cmd = { .fn = fn, .opaque = opaque };
	int ret = -ENOMEM;

	if (!name || !*name || !fn)
		return -EINVAL;
	cmd.name = strdup(name);
	cmd.help = strdup(help ? help : "");
	if (cmd.name && cmd.help) {
		pthread_mutex_lock(&c->lock);
		ret = add_command(c, &cmd);
		pthread_mutex_unlock(&c->lock);
	}
	if (ret) {
		free(cmd.name);
		free(cmd.help);
	}
	return ret;
}

static bool lookup(struct control_commands *c, const char *name,
		   struct command *out)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	for (size_t i = 0; i < c->nr_commands && !found; i++) {
		if (!strcmp(c->commands[i].name, name)) {
			*out = c->commands[i];
			found = true;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

int control_commands_defer(struct control_commands *c, void (*fn)(void *arg),
			   void *arg)
{
	if (c->deferred_fn)
		return -EBUSY;
	c->deferred_fn = fn;
	c->deferred_arg = arg;
	return 0;
}

void control_commands_run_deferred(struct control_commands *c)
{
	void (*fn)(void *arg) = c->deferred_fn;

	if (!fn)
		return;
	c->deferred_fn = NULL;
	fn(c->deferred_arg);
}

/* QMP's shape: [{"name": ..., "help": ...}], so QMP tools can list them. */
static int cmd_query_commands(struct vm *vm, void *opaque,
			      const struct json_value *args, struct jw *reply,
			      char *err, size_t err_len)
{
	struct control_commands *c = opaque;

	pthread_mutex_lock(&c->lock);
	jw_array_begin(reply, NULL);
	for (size_t i = 0; i < c->nr_commands; i++) {
		jw_object_begin(reply, NULL);
		jw_string(reply, "name", c->commands[i].name);
		jw_string(reply, "help", c->commands[i].help);
		jw_object_end(reply);
	}
	jw_array_end(reply);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int cmd_qmp_capabilities(struct vm *vm, void *opaque,
				const struct json_value *args,
				struct jw *reply, char *err, size_t err_len)
{
	return 0;
}

/* --- dispatch ----------------------------------------------------------- */

void control_write_error(struct jw *reply, const struct json_value *id,
			 const char *class, const char *desc)
{
	jw_object_begin(reply, NULL);
	jw_object_begin(reply, "error");
	jw_string(reply, "class", class);
	jw_string(reply, "desc", desc);
	jw_object_end(reply);
	if (id)
		jw_value(reply, "id", id);
	jw_object_end(reply);
}

/* Checks the request's shape; on failure puts the reason into desc. */
static int check_request(const struct json_value *req, const char **name,
			 const struct json_value **args, char *desc,
			 size_t desc_len)
{
	if (req->type != JSON_OBJECT) {
		snprintf(desc, desc_len, "request must be a JSON object");
		return -EINVAL;
	}
	for (size_t i = 0; i < req->nr_items; i++) {
		const char *key = req->keys[i];

		if (strcmp(key, "execute") && strcmp(key, "arguments") &&
		    strcmp(key, "id")) {
			snprintf(desc, desc_len,
				 "unexpected member \"%.64s\" in request", key);
			return -EINVAL;
		}
	}
	if (json_get_string(req, "execute", name)) {
		snprintf(desc, desc_len,
			 "request needs \"execute\" with a command name");
		return -EINVAL;
	}
	*args = json_get(req, "arguments");
	if (!*args) {
		*args = &empty_object;
	} else if ((*args)->type != JSON_OBJECT) {
		snprintf(desc, desc_len, "\"arguments\" must be a JSON object");
		return -EINVAL;
	}
	return 0;
}

/* Runs the handler into a private writer so a failure leaves no trace. */
static void run_command(struct control_commands *c,
			const struct command *cmd,
			const struct json_value *args,
			const struct json_value *id, struct jw *reply)
{
	struct jw value;
	const char *text;
	char desc[512] = "";
	int ret;

	jw_init(&value);
	ret = cmd->fn(c->vm, cmd->opaque, args, &value, desc, sizeof(desc));
	text = value.len ? jw_finish(&value) : "{}";
	if (ret < 0 || !text) {
		if (ret >= 0)
			snprintf(desc, sizeof(desc),
				 "%s: could not build the reply: %s",
				 cmd->name, strerror(-value.err));
		else if (!desc[0])
			snprintf(desc, sizeof(desc), "%s: %s", cmd->name,
				 strerror(-ret));
		control_write_error(reply, id, "GenericError", desc);
	} else {
		jw_object_begin(reply, NULL);
		jw_raw(reply, "return", text);
		if (id)
			jw_value(reply, "id", id);
		jw_object_end(reply);
	}
	jw_free(&value);
}

static void dispatch(struct control_commands *c, const struct json_value *req,
		     struct jw *reply)
{
	const struct json_value *id = json_get(req, "id"), *args;
	struct command cmd;
	const char *name;
	char desc[256];

	if (check_request(req, &name, &args, desc, sizeof(desc))) {
		control_write_error(reply, id, "GenericError", desc);
		return;
	}
	if (!lookup(c, name, &cmd)) {
		snprintf(desc, sizeof(desc),
			 "unknown command \"%.64s\" (see query-commands)",
			 name);
		control_write_error(reply, id, "CommandNotFound", desc);
		return;
	}
	run_command(c, &cmd, args, id, reply);
}

static bool is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return false;
	return true;
}

int control_commands_handle_line(struct control_commands *c, const char *line,
				 size_t len, struct jw *reply)
{
	struct json_value *req;
	char err[256], desc[300];

	if (is_blank(line, len))
		return -ENODATA;
	if (json_parse(line, len, &req, err, sizeof(err))) {
		snprintf(desc, sizeof(desc), "invalid JSON: %s", err);
		control_write_error(reply, NULL, "GenericError", desc);
	} else {
		dispatch(c, req, reply);
		json_free(req);
	}
	return jw_finish(reply) ? 0 : -ENOMEM;
}

int control_commands_create(struct vm *vm, struct control_commands **out)
{
	struct control_commands *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->vm = vm;
	pthread_mutex_init(&c->lock, NULL);
	ret = control_commands_add(c, "query-commands",
				   "list the commands of this socket",
				   cmd_query_commands, c);
	if (!ret)
		ret = control_commands_add(c, "qmp_capabilities",
					   "no-op, for QMP clients",
					   cmd_qmp_capabilities, NULL);
	if (ret) {
		control_commands_destroy(c);
		return ret;
	}
	*out = c;
	return 0;
}

void control_commands_destroy(struct control_commands *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_commands; i++) {
		free(c->commands[i].name);
		free(c->commands[i].help);
	}
	free(c->commands);
	pthread_mutex_destroy(&c->lock);
	free(c);
}
