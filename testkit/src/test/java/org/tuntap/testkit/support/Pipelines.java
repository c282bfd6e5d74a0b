package org.tuntap.testkit.support;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import org.tuntap.transport.TunChannel;

import java.util.function.Consumer;

/** Pipelines for test channels, written as a lambda. */
public final class Pipelines {
    private Pipelines() {
    }

    /** A handler that fills each new channel's pipeline with {@code fill}. */
    public static ChannelHandler of(Consumer<TunChannel> fill) {
        return new ChannelInitializer<TunChannel>() {
            @Override
            protected void initChannel(TunChannel channel) {
                fill.accept(channel);
            }
        };
    }

    /**
     * {@code size} bytes of a pattern that differs per size and position, so a datagram cut
     * short, shifted or mixed up with another fails a byte-exact comparison.
     */
    public static byte[] payload(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + size);
        }
        return bytes;
    }
}
