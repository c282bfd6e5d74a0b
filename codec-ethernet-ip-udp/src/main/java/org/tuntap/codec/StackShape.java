package org.tuntap.codec;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;

import java.util.List;

/**
 * What a {@link FusedStack} was built from: the pipeline's handler names in order, the context of
 * every handler from the pipeline's first up to the stack's top (a {@code replace} keeps the
 * name but removes the context), and each layer's answers to the fusing hooks (which the stack's
 * layout was computed from). The stack stands while all of these are as they were.
 *
 * <p>Checking is one pass over the pipeline's names; finding the stack again looks every handler
 * up by name, which on a loop that turns every few packets (io_uring) took 8% of the echo's time.
 */
final class StackShape {
    private final List<String> names;
    private final ChannelHandlerContext[] contexts;
    private final LayerHandler[] layers;
    private final int[] headerLengths;
    private final LayerHandler.Bytes[] takes;
    private final LayerHandler.Bytes[] yields;
    private final LayerHandler.Bytes[] transparentOver;

    /** @param top the index in {@code names} of the stack's top layer */
    StackShape(ChannelPipeline pipeline, List<String> names, int top, LayerHandler[] layers) {
        this.names = List.copyOf(names);
        this.contexts = new ChannelHandlerContext[top + 1];
        for (int i = 0; i <= top; i++) {
            contexts[i] = pipeline.context(names.get(i));
        }
        this.layers = layers.clone();
        int n = layers.length;
        this.headerLengths = new int[n];
        this.takes = new LayerHandler.Bytes[n];
        this.yields = new LayerHandler.Bytes[n];
        this.transparentOver = new LayerHandler.Bytes[n];
        for (int i = 0; i < n; i++) {
            headerLengths[i] = layers[i].fusedHeaderLength();
            takes[i] = layers[i].fusedTakes();
            yields[i] = layers[i].fusedYields();
            transparentOver[i] = layers[i].fusedTransparentOver();
        }
    }

    /** Whether {@code pipeline} still holds the stack exactly as it was found. */
    boolean holds(ChannelPipeline pipeline) {
        for (ChannelHandlerContext context : contexts) {
            if (context == null || context.isRemoved()) {
                return false;
            }
        }
        for (int i = 0; i < layers.length; i++) {
            LayerHandler layer = layers[i];
            if (layer.fusedHeaderLength() != headerLengths[i] || layer.fusedTakes() != takes[i]
                    || layer.fusedYields() != yields[i] || layer.fusedTransparentOver() != transparentOver[i]) {
                return false;
            }
        }
        return pipeline.names().equals(names);
    }
}
