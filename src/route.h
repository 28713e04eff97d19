/* route.h: an endpoint row of endpoints.lua compiled for the mapper
 * (route.c builds it, request.c reads it). */
#ifndef VZ_ROUTE_H
#define VZ_ROUTE_H

#include "compat.h"

#define VZ_ROUTE_MT "vzaps.route"
#define VZ_MAX_PIECES 6 /* literal path pieces; a field sits between two */
#define VZ_MAX_SLOTS 12 /* named values: instance_id, instance_token, path, query and argument fields */
#define VZ_MAX_ARGS 6
#define VZ_MAX_LIST 12

enum { VZ_SLOT_INSTANCE_ID = 0, VZ_SLOT_INSTANCE_TOKEN = 1 };
enum { VZ_ARG_FIELD, VZ_ARG_OPTS, VZ_ARG_BODY };
/* The route's user value holds its Lua parts at these indices. */
enum { VZ_ROUTE_LISTS = 1, VZ_ROUTE_FIELDS = 2, VZ_ROUTE_PREPARE = 3, VZ_ROUTE_FIELD_NAMES = 4 };

typedef struct vz_pieces {
  int n; /* literal pieces; fields: n - 1 */
  char *lit[VZ_MAX_PIECES];
  size_t litlen[VZ_MAX_PIECES];
  int field[VZ_MAX_PIECES]; /* slot of the field after lit[i] */
} vz_pieces;

typedef struct vz_arg {
  int kind, slot;
} vz_arg;

typedef struct vz_route {
  char *method, *resource, *name;
  int table_form, optional, scoped, needs_instance_id, no_body;
  int has_fields, has_prepare;
  int has_media;       /* a known field is a media field (image, video, ...): limits checked */
  int has_document;    /* a known field is "document" (its file_name may be filled in) */
  vz_pieces path, alt; /* alt: the path without the field without_slot (Typebots.StartSession) */
  int without_slot;    /* -1: none */
  int raw_slot;        /* the field inserted unescaped (Messages.Send), -1: none */
  int nslots;
  char *slot[VZ_MAX_SLOTS];
  size_t slotlen[VZ_MAX_SLOTS];
  /* positional form, [0]: on the client, [1]: on an instance handle */
  int nargs[2];
  vz_arg args[2][VZ_MAX_ARGS];
  int slot_pos[2][VZ_MAX_SLOTS]; /* argument position of a slot, 0: none */
  int body_pos[2], opts_pos[2];
  int nrequired;
  char *required[VZ_MAX_LIST];
  int nbody_args; /* body = {key = value of slot}: Instances.Get's {id} */
  char *body_key[VZ_MAX_LIST];
  int body_slot[VZ_MAX_LIST];
  int nquery; /* query fields, slots */
  int query_slot[VZ_MAX_LIST];
  int nints; /* whole-number fields and their minimum; slot -1: a body field */
  char *int_name[VZ_MAX_LIST];
  lua_Integer int_min[VZ_MAX_LIST];
  int int_slot[VZ_MAX_LIST];
} vz_route;

void vz_route_register(lua_State *L);

#endif
