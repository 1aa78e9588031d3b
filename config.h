/* Written by ./configure; do not edit. */
#ifndef KVMTRACK_CONFIG_GENERATED_H
#define KVMTRACK_CONFIG_GENERATED_H
#define KVMTRACK_VERSION "0.1"
#define HAVE_KVM 1
#endif
