import { Kind, parse, type DefinitionNode } from 'graphql';

/**
 * Every type, field, argument, enum value and input field of a subgraph SDL that has no description,
 * as schema coordinates (`Type`, `Type.field`, `Type.field(arg)`, `Enum.VALUE`). A type extension
 * cannot carry a description (its fields must); `extend schema @link` and directive definitions are
 * federation's, so they are left out.
 */
export function undocumentedCoordinates(sdl: string): string[] {
  const missing: string[] = [];
  for (const def of parse(sdl).definitions) {
    if (!isDescribable(def)) continue;
    const type = def.name.value;
    if ('description' in def && !def.description?.value.trim()) missing.push(type);
    for (const value of 'values' in def ? (def.values ?? []) : []) {
      if (!value.description?.value.trim()) missing.push(`${type}.${value.name.value}`);
    }
    for (const field of 'fields' in def ? (def.fields ?? []) : []) {
      if (!field.description?.value.trim()) missing.push(`${type}.${field.name.value}`);
      for (const arg of 'arguments' in field ? (field.arguments ?? []) : []) {
        if (!arg.description?.value.trim()) missing.push(`${type}.${field.name.value}(${arg.name.value})`);
      }
    }
  }
  return missing;
}

type Describable = Extract<
  DefinitionNode,
  {
    kind:
      | Kind.OBJECT_TYPE_DEFINITION
      | Kind.INTERFACE_TYPE_DEFINITION
      | Kind.INPUT_OBJECT_TYPE_DEFINITION
      | Kind.ENUM_TYPE_DEFINITION
      | Kind.UNION_TYPE_DEFINITION
      | Kind.SCALAR_TYPE_DEFINITION
      | Kind.OBJECT_TYPE_EXTENSION
      | Kind.INTERFACE_TYPE_EXTENSION
      | Kind.INPUT_OBJECT_TYPE_EXTENSION
      | Kind.ENUM_TYPE_EXTENSION;
  }
>;

function isDescribable(def: DefinitionNode): def is Describable {
  switch (def.kind) {
    case Kind.OBJECT_TYPE_DEFINITION:
    case Kind.INTERFACE_TYPE_DEFINITION:
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
    case Kind.ENUM_TYPE_DEFINITION:
    case Kind.UNION_TYPE_DEFINITION:
    case Kind.SCALAR_TYPE_DEFINITION:
    case Kind.OBJECT_TYPE_EXTENSION:
    case Kind.INTERFACE_TYPE_EXTENSION:
    case Kind.INPUT_OBJECT_TYPE_EXTENSION:
    case Kind.ENUM_TYPE_EXTENSION:
      return true;
    default:
      return false;
  }
}
