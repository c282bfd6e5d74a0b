package org.tuntap.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Helpers shared by the codec tests: hex, fixtures, and a deliberately naive checksum. */
public final class TestPackets {

    /** The reference check vector: IPv4 10.1.2.3 -> 172.16.2.2, UDP 21345 -> 12345, "hi", id 1, TTL 64, UDP checksum 0. */
    public static final String CHECK_VECTOR = "45 00 00 1e 00 01 00 00 40 11 c0 b8 0a 01 02 03 ac 10 02 02 53 61 30 39 00 0a 00 00 68 69";

    private TestPackets() {
    }

    public static byte[] bytes(String hex) {
        return ByteBufUtil.decodeHexDump(hex.replaceAll("\\s+", ""));
    }

    /** A heap buffer of the hex (release it), from the pooled allocator so the leak detector tracks it. */
    public static ByteBuf buf(String hex) {
        return tracked(bytes(hex));
    }

    /**
     * A copy of the bytes in a pooled heap buffer. Netty 4.2 tracks leaks of pooled and direct
     * buffers only (not of Unpooled heap buffers), so tests feed the codecs these.
     */
    public static ByteBuf tracked(byte[] bytes) {
        return PooledByteBufAllocator.DEFAULT.heapBuffer(Math.max(1, bytes.length)).writeBytes(bytes);
    }

    /** ASCII text in a tracked buffer. */
    public static ByteBuf ascii(String text, java.nio.charset.Charset ignored) {
        return tracked(text.getBytes(StandardCharsets.US_ASCII));
    }

    public static String hex(ByteBuf buf) {
        return ByteBufUtil.hexDump(buf);
    }

    /** A packet captured from the kernel (see src/test/fixtures/capture.py). */
    public static byte[] fixture(String name) {
        try (InputStream in = TestPackets.class.getResourceAsStream("/fixtures/" + name)) {
            if (in == null) {
                throw new IllegalArgumentException("no fixture " + name);
            }
            return bytes(new String(in.readAllBytes(), StandardCharsets.US_ASCII).trim());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** RFC 1071 the slow, obvious way: pairs of bytes, one at a time, carries folded at the end. */
    public static int naiveChecksum(byte[] data, int offset, int length) {
        long sum = 0;
        for (int i = 0; i < length; i++) {
            int b = data[offset + i] & 0xFF;
            sum += (i % 2 == 0) ? b << 8 : b;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int) (~sum & 0xFFFF);
    }
}
