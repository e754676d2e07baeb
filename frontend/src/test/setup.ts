import { afterEach } from 'vitest';
import { cleanup } from '@testing-library/react';

// CodeMirror measures layout; jsdom has no layout, so give it empty rectangles.
const emptyRects = () => ({ length: 0, item: () => null, [Symbol.iterator]: [][Symbol.iterator] }) as unknown as DOMRectList;
if (!Range.prototype.getClientRects) Range.prototype.getClientRects = emptyRects;
if (!Range.prototype.getBoundingClientRect) Range.prototype.getBoundingClientRect = () => new DOMRect();
if (!document.elementFromPoint) document.elementFromPoint = () => null;

afterEach(() => cleanup());
