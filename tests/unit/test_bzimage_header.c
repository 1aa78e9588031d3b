// SPDX-License-Identifier: MIT
/*
 * vmm/boot/bzimage.c: the setup header's length comes from the image (the
 * offset byte of the jump at 0x200), and the header is copied into a
 * fixed buffer. Found by the loaders fuzz target (tests/fuzz/): an offset
 * of 0x80 or more, a backward jump, made bzimage_parse() copy up to 127
 * bytes past struct bzimage_info's header[]; and an image that ended
 * within the version field (0x206) had it read past its end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "lib/le.h"
#include "vmm/boot/bzimage.h"

/* A setup header that passes every check but the jump's offset. */
static void image_with_jump(uint8_t *image, size_t len, uint8_t offset)
{
	memset(image, 0, len);
	put_le16(image + BZ_BOOT_FLAG, 0xaa55);
	memcpy(image + BZ_HEADER, "HdrS", 4);
	put_le16(image + BZ_VERSION, 0x020f);
	image[BZ_JUMP] = 0xeb;
	image[BZ_JUMP + 1] = offset;
}

Test(bzimage_header, backward_jump_is_refused)
{
	static uint8_t image[8192];
	struct bzimage_info info;
	char why[256] = "";

	image_with_jump(image, sizeof(image), 0xff);
	cr_expect_eq(bzimage_parse(image, sizeof(image), &info, why,
				   sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "setup header ends at 0x301, outside"), "%s",
		  why);
}

Test(bzimage_header, longest_forward_jump_fits)
{
	static uint8_t image[8192];
	struct bzimage_info info;
	char why[256] = "";

	image_with_jump(image, sizeof(image), 0x80);
	bzimage_parse(image, sizeof(image), &info, why, sizeof(why));
	cr_expect_null(strstr(why, "setup header ends"), "%s", why);
	cr_expect_leq(info.header_bytes, sizeof(info.header));
}

Test(bzimage_header, image_ending_in_the_version_is_refused)
{
	static uint8_t image[BZ_VERSION + 1];
	struct bzimage_info info;
	char why[256] = "";

	memset(image, 0, sizeof(image));
	put_le16(image + BZ_BOOT_FLAG, 0xaa55);
	memcpy(image + BZ_HEADER, "HdrS", 4);
	cr_expect_eq(bzimage_parse(image, sizeof(image), &info, why,
				   sizeof(why)),
		     -EINVAL);
	cr_expect(strstr(why, "setup header ends at 0x202, outside [0x264, 0x282] or the image's 0x207 bytes"), "%s",
		  why);
}
